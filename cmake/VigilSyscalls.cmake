# The x86-64 syscall names and numbers, generated from the UAPI header the build machine has:
# vigil_syscall_table(FILE) writes `{"name", number},` lines to FILE (at configure time), for a
# table that the policy compiler (syscall lists) and the kprobe plugin (raw_syscalls dispatch)
# both include.
function(vigil_syscall_table out_file)
  find_file(VIGIL_UNISTD_64_H asm/unistd_64.h PATHS /usr/include/x86_64-linux-gnu /usr/include REQUIRED)
  file(STRINGS ${VIGIL_UNISTD_64_H} nr_lines REGEX "^#define __NR_[a-z0-9_]+ [0-9]+$")
  set(table "")
  foreach(line IN LISTS nr_lines)
    string(REGEX REPLACE "^#define __NR_([a-z0-9_]+) ([0-9]+)$" "{\"\\1\", \\2}," entry "${line}")
    string(APPEND table "${entry}\n")
  endforeach()
  file(CONFIGURE OUTPUT ${out_file} CONTENT "${table}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${VIGIL_UNISTD_64_H})
endfunction()
