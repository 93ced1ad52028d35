# vigil_add_plugin(NAME SOURCES <C or C++ files> [BPF <file.bpf.c> ...] [BPF_HEADERS ...])
#
# Builds a plugin shared library NAME (lib<NAME>.so) against Vigil::sdk, compiling each BPF
# source into an object whose skeleton is embedded in the library. A BPF source foo.bpf.c gives
# the skeleton header foo.skel.h, and the skeleton functions foo__open() etc.
function(vigil_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;BPF;BPF_HEADERS")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "vigil_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} SHARED ${arg_SOURCES})
  foreach(src IN LISTS arg_BPF)
    get_filename_component(base "${src}" NAME)
    string(REGEX REPLACE "\\.bpf\\.c$" "" base "${base}")
    vigil_add_bpf_object(${base} SOURCE ${src} HEADERS ${arg_BPF_HEADERS})
    target_link_libraries(${name} PRIVATE ${base})
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
