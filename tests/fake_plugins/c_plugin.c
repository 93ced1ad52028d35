/* A plugin in plain C, written from vigil/plugin_abi.h alone (no C++ layer): what a C, Rust or
 * Zig author would export. It posts one record per getppid() of [config] target_pid (the
 * bad_records BPF object) and emits a "c_getppid" event for each, with the record's sequence
 * number. Built a second time with C_PARTIAL_HOOKS, its API table sets only some of the hook
 * callbacks, which the host must refuse; with C_NEEDS_PROCESS it needs the process lifecycle
 * events from another plugin. */
#include "bad_records.skel.h"

#include <vigil/plugin_abi.h>
#include <vigil/wire/process.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const event_kinds[] = {"c_getppid"};
static const vigil_map_use maps[] = {{sizeof(vigil_map_use), VIGIL_PROCS_MAP, VIGIL_PROCS_LAYOUT}};
static const vigil_config_field fields[] = {
    {sizeof(vigil_config_field), "target_pid", VIGIL_CONFIG_INT, "process whose getppid() calls make events", "0"},
    {sizeof(vigil_config_field), "other_key", VIGIL_CONFIG_STRING, "events name target_pid again under this key", NULL},
};

#ifdef C_NEEDS_PROCESS
/* reads the shared process cache: needs the lifecycle events that keep it current */
static const char *const needs[] = {"process_exec", "process_exit"};
#endif

static const vigil_descriptor descriptor = {
    .struct_size = sizeof(vigil_descriptor),
    .abi_major = VIGIL_ABI_MAJOR,
    .min_host_minor = 2, /* the C entry point */
#ifdef C_NEEDS_PROCESS
    .id = "cneeds",
    .needs_events = needs,
    .needs_event_count = 2,
#else
    .id = "cplug",
#endif
    .name = "Plugin in C",
    .version = "0.1.0",
    .description = "test plugin written against plugin_abi.h only",
    .license = "GPL-2.0-only",
    .event_kinds = event_kinds,
    .event_kind_count = 1,
    .shared_maps = maps,
    .shared_map_count = 1,
    .config_fields = fields,
    .config_field_count = 2,
};

struct cplug {
    const vigil_host_api *host;
    uint32_t target_pid;
    char other_key[64];
    struct bad_records *skel;
    struct bpf_link *link;
};

static const vigil_descriptor *c_descriptor(void) { return &descriptor; }

static vigil_result c_init(const vigil_host_api *host, const vigil_config_value *config, uint32_t n, void **self,
                           char *err, size_t err_len)
{
    struct cplug *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return VIGIL_ERR_INTERNAL;
    }
    p->host = host;
    for (uint32_t i = 0; i < n; ++i)
        if (config[i].is_set && strcmp(config[i].key, "target_pid") == 0)
            p->target_pid = (uint32_t)config[i].int_value;
        else if (config[i].is_set && strcmp(config[i].key, "other_key") == 0)
            snprintf(p->other_key, sizeof p->other_key, "%s", config[i].str_value);
    *self = p;
    return VIGIL_OK;
}

static void c_stop_all(struct cplug *p)
{
    if (p->link)
        bpf_link__destroy(p->link);
    p->link = NULL;
    if (p->skel)
        bad_records__destroy(p->skel);
    p->skel = NULL;
}

static vigil_result c_start(void *self, char *err, size_t err_len)
{
    struct cplug *p = self;
    int fd = p->host->shared_map_fd(p->host->ctx, VIGIL_PROCS_MAP, VIGIL_PROCS_LAYOUT);
    if (fd < 0) {
        snprintf(err, err_len, "shared map %s: %s", VIGIL_PROCS_MAP, strerror(-fd));
        return VIGIL_ERR_INVALID;
    }
    close(fd);
    p->skel = bad_records__open();
    if (!p->skel) {
        snprintf(err, err_len, "opening the BPF object: %s", strerror(errno));
        return VIGIL_ERR_KERNEL;
    }
    p->skel->rodata->target_tgid = p->target_pid;
    bpf_program__set_autoload(p->skel->progs.bad_unchecked, false);
    int rc = bad_records__load(p->skel);
    if (rc) {
        snprintf(err, err_len, "loading the BPF object: %s", strerror(-rc));
        c_stop_all(p);
        return VIGIL_ERR_KERNEL;
    }
    vigil_result r = p->host->add_ring(p->host->ctx, bpf_map__fd(p->skel->maps.bad_events), 0, err, err_len);
    if (r != VIGIL_OK) {
        c_stop_all(p);
        return r;
    }
    p->link = bpf_program__attach(p->skel->progs.bad_getppid);
    if (!p->link) {
        snprintf(err, err_len, "attaching bad_getppid: %s", strerror(errno));
        c_stop_all(p);
        return VIGIL_ERR_KERNEL;
    }
    r = p->host->register_link(p->host->ctx, bpf_link__fd(p->link), NULL, err, err_len);
    if (r != VIGIL_OK)
        c_stop_all(p);
    else
        p->host->log(p->host->ctx, VIGIL_LOG_INFO, "c plugin attached", strlen("c plugin attached"));
    return r;
}

static vigil_result c_stop(void *self, char *err, size_t err_len)
{
    (void)err;
    (void)err_len;
    c_stop_all(self);
    return VIGIL_OK;
}

static void c_destroy(void *self)
{
    c_stop_all(self);
    free(self);
}

static vigil_result c_decode(void *self, uint32_t ring_id, const void *data, size_t len, vigil_emit_fn emit,
                             void *emit_ctx, char *err, size_t err_len)
{
    struct cplug *p = self;
    uint64_t seq;
    if (ring_id != 0 || len < sizeof seq) {
        snprintf(err, err_len, "ring %u: record of %zu bytes, want %zu", ring_id, len, sizeof seq);
        return VIGIL_ERR_INVALID;
    }
    memcpy(&seq, data, sizeof seq);
    char body[64];
    int n = snprintf(body, sizeof body, "\"seq\":%llu", (unsigned long long)seq);
    vigil_event ev = {
        .struct_size = sizeof ev,
        .pid = p->target_pid,
        .tid = p->target_pid,
        .kind = "c_getppid",
        .body_json = body,
        .body_json_len = (size_t)n,
        .summary = "getppid",
        .summary_len = 7,
        .other_key = p->other_key[0] ? p->other_key : NULL,
        .other_pid = p->target_pid,
    };
    emit(emit_ctx, &ev);
    return VIGIL_OK;
}

#ifdef C_PARTIAL_HOOKS
static vigil_result c_add_hook(void *self, const vigil_hook_request *req, uint64_t *handle,
                               vigil_hook_status *status, char *err, size_t err_len)
{
    (void)self, (void)req, (void)status, (void)err, (void)err_len;
    *handle = 1;
    return VIGIL_OK;
}
static vigil_result c_hook_stats(void *self, uint64_t handle, vigil_hook_stats *stats, char *err, size_t err_len)
{
    (void)self, (void)handle, (void)stats, (void)err, (void)err_len;
    return VIGIL_OK;
}
#endif

static const vigil_plugin_api api = {
    .struct_size = sizeof(vigil_plugin_api),
    .descriptor = c_descriptor,
    .init = c_init,
    .start = c_start,
    .stop = c_stop,
    .destroy = c_destroy,
    .decode = c_decode,
#ifdef C_PARTIAL_HOOKS
    .add_hook = c_add_hook,
    .hook_stats = c_hook_stats,
#endif
};

__attribute__((visibility("default"))) const vigil_plugin_api *vigil_plugin_get_api(void) { return &api; }
