# vigil_add_plugin(NAME SOURCES <C or C++ files> [BPF <file.bpf.c>[=<skeleton>] ...] [BPF_HEADERS ...])
#
# Builds a plugin shared library NAME (lib<NAME>.so) against Vigil::sdk, compiling each BPF
# source into an object whose skeleton is embedded in the library. A BPF source foo.bpf.c gives
# the skeleton header foo.skel.h and the skeleton functions foo__open() etc.; foo.bpf.c=bar names
# the skeleton bar instead (a struct foo may clash with a libc one, as `signal` does). The BPF
# object's target is NAME_<skeleton>, so two plugins may each have a sensor.bpf.c.
function(vigil_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;BPF;BPF_HEADERS")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "vigil_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} SHARED ${arg_SOURCES})
  foreach(entry IN LISTS arg_BPF)
    string(REPLACE "=" ";" parts "${entry}")
    list(GET parts 0 src)
    get_filename_component(skel "${src}" NAME)
    string(REGEX REPLACE "\\.bpf\\.c$" "" skel "${skel}")
    list(LENGTH parts n)
    if(n EQUAL 2)
      list(GET parts 1 skel)
    elseif(n GREATER 2)
      message(FATAL_ERROR "vigil_add_plugin(${name}): BPF entry \"${entry}\" is not <file.bpf.c>[=<skeleton>]")
    endif()
    vigil_add_bpf_object(${name}_${skel} SOURCE ${src} SKELETON ${skel} HEADERS ${arg_BPF_HEADERS})
    target_link_libraries(${name} PRIVATE ${name}_${skel})
  endforeach()
  target_link_libraries(${name} PRIVATE Vigil::sdk PkgConfig::LIBBPF)
  target_compile_features(${name} PRIVATE cxx_std_23)
  # Only the entry point is exported; everything else stays inside the plugin.
  set_target_properties(${name} PROPERTIES
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    PREFIX "lib")
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
endfunction()
