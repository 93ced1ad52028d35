# vigil_add_bpf_object(NAME SOURCE <file.bpf.c> [SKELETON <skel>] [HEADERS ...] [INCLUDES ...])
#
# Compiles one BPF C file with clang for the BPF target (CO-RE, BTF kept), generates its
# libbpf skeleton with bpftool, and gives an INTERFACE target NAME whose include directory holds
# <skel>.skel.h (struct <skel>, <skel>__open() ...); <skel> is NAME unless SKELETON names it. The object is embedded in the skeleton, so a plugin .so carries its own BPF code.
# This file is shared by the project build and the installed SDK package.

find_program(VIGIL_BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(VIGIL_BPFTOOL NAMES bpftool REQUIRED PATHS /usr/sbin /sbin)

if(NOT DEFINED VIGIL_BPF_ARCH)
  set(VIGIL_BPF_ARCH x86)
endif()

function(vigil_add_bpf_object name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SOURCE;SKELETON" "HEADERS;INCLUDES")
  if(NOT arg_SKELETON)
    set(arg_SKELETON ${name})
  endif()
  if(NOT arg_SOURCE)
    message(FATAL_ERROR "vigil_add_bpf_object(${name}): SOURCE is required")
  endif()
  if(NOT VIGIL_BPF_INCLUDE_DIRS)
    message(FATAL_ERROR "vigil_add_bpf_object(${name}): VIGIL_BPF_INCLUDE_DIRS is not set")
  endif()
  get_filename_component(src "${arg_SOURCE}" ABSOLUTE)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/bpf/${name})
  set(obj ${out_dir}/${arg_SKELETON}.bpf.o)
  set(skel ${out_dir}/${arg_SKELETON}.skel.h)

  set(include_flags)
  foreach(dir IN LISTS VIGIL_BPF_INCLUDE_DIRS arg_INCLUDES)
    list(APPEND include_flags -I${dir})
  endforeach()

  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${VIGIL_BPF_CLANG} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${VIGIL_BPF_ARCH}
            -Wall -Wno-unused-function -Wno-compare-distinct-pointer-types
            ${include_flags} -MD -MF ${obj}.d -MT ${obj} -c ${src} -o ${obj}.tmp
    # bpftool's linker drops DWARF sections the loader never reads and keeps BTF.
    COMMAND ${VIGIL_BPFTOOL} gen object ${obj} ${obj}.tmp
    COMMAND ${CMAKE_COMMAND} -E remove ${obj}.tmp
    DEPENDS ${src} ${arg_HEADERS}
    DEPFILE ${obj}.d
    COMMENT "BPF ${name}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${VIGIL_BPFTOOL} gen skeleton ${obj} name ${arg_SKELETON} > ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${arg_SKELETON}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel DEPENDS ${skel})

  add_library(${name} INTERFACE)
  add_dependencies(${name} ${name}_skel)
  target_include_directories(${name} INTERFACE ${out_dir})
  set_property(TARGET ${name} PROPERTY VIGIL_BPF_OBJECT ${obj})
endfunction()
