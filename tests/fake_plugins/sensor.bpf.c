// SPDX-License-Identifier: GPL-2.0
/* bad_records.bpf.c again, under the name the socket plugin's sensor has: two plugins may each
 * have a sensor.bpf.c (their BPF targets are prefixed with the plugin), and the author names the
 * skeleton (fake_c_sensor builds this one as the skeleton bad_records). */
#include "bad_records.bpf.c"
