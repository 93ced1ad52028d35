/* The one record the example plugin's BPF program sends: a process that called execve. */
#ifndef VIGIL_EXAMPLE_H
#define VIGIL_EXAMPLE_H

struct example_record {
    unsigned long long ktime;
    unsigned int pid;
    unsigned int tid;
    char comm[16];
};

#endif
