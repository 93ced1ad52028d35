/* vigil plugin ABI: the only thing that crosses the boundary between vigild and a plugin .so.
 *
 * Rules that keep old plugins loading in new hosts and the reverse:
 *  - only C types cross: PODs, pointer + length, fds, opaque handles;
 *  - every struct starts with `uint32_t struct_size` and only ever grows at the end; a reader
 *    checks struct_size before touching a field added in a later minor version;
 *  - memory belongs to whoever allocated it: strings handed to a callback are valid only during
 *    the call; the descriptor a plugin returns lives as long as the library is loaded;
 *  - errors are a vigil_result plus a message the callee writes into a caller-owned buffer.
 *
 * A plugin exports one plain C function, `vigil_plugin_get_api` (declared at the end of this
 * header), returning its vigil_plugin_api. A plugin in C, Rust or Zig defines it from this header
 * alone; a C++ plugin gets it from VIGIL_PLUGIN (vigil/sdk/plugin.hpp).
 *
 * In the tables below, [required] members must be set; [optional] ones may be NULL; [group]
 * members are all set or all NULL.
 */
#ifndef VIGIL_PLUGIN_ABI_H
#define VIGIL_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A major bump breaks every plugin; a minor bump only adds fields or callbacks at the end. */
#define VIGIL_ABI_MAJOR 1
#define VIGIL_ABI_MINOR 3

/* ABI 1.2: the entry point, an exported C function of type vigil_plugin_entry_fn. */
#define VIGIL_ENTRY_SYMBOL "vigil_plugin_get_api"
/* Before ABI 1.2: a Boost.DLL alias of that name (a data symbol holding the function's address).
 * Hosts of ABI 1.2 and 1.3 still accept it; a later minor will not. */
#define VIGIL_LEGACY_ENTRY_SYMBOL "vigil_plugin_entry"

typedef enum vigil_result {
    VIGIL_OK = 0,
    VIGIL_ERR_INVALID = 1,     /* bad argument, config or policy content */
    VIGIL_ERR_UNSUPPORTED = 2, /* the kernel or host lacks a feature the request needs */
    VIGIL_ERR_KERNEL = 3,      /* a bpf() or other syscall failed */
    VIGIL_ERR_NOT_FOUND = 4,   /* unknown hook, map or id */
    VIGIL_ERR_INTERNAL = 5,    /* a bug or an exception inside the plugin */
    VIGIL_ERR_BUSY = 6,        /* ABI 1.3, exporters: full for now; the rest is offered again later */
} vigil_result;

typedef enum vigil_log_level {
    VIGIL_LOG_TRACE = 0,
    VIGIL_LOG_DEBUG = 1,
    VIGIL_LOG_INFO = 2,
    VIGIL_LOG_WARN = 3,
    VIGIL_LOG_ERROR = 4,
} vigil_log_level;

/* A shared BPF map a plugin uses, owned and created by the host. */
typedef struct vigil_map_use {
    uint32_t struct_size;
    const char *name;        /* map name as declared in vigil/bpf/maps.h, e.g. "vigil_procs" */
    uint32_t layout_version; /* the layout the plugin was built against; must equal the host's */
} vigil_map_use;

typedef enum vigil_config_type {
    VIGIL_CONFIG_BOOL = 1,
    VIGIL_CONFIG_INT = 2,
    VIGIL_CONFIG_STRING = 3,
    VIGIL_CONFIG_STRING_LIST = 4,
} vigil_config_type;

/* One key a plugin accepts under [plugins.<id>.config]; the host refuses anything else. */
typedef struct vigil_config_field {
    uint32_t struct_size;
    const char *key;
    uint32_t type;             /* vigil_config_type */
    const char *description;
    const char *default_value; /* TOML literal shown by `vigil plugin check`, may be NULL */
} vigil_config_field;

typedef struct vigil_descriptor {
    uint32_t struct_size;
    uint32_t abi_major;         /* VIGIL_ABI_MAJOR the plugin was built with */
    uint32_t min_host_minor;    /* oldest host ABI minor that has everything the plugin calls */
    const char *id;             /* [a-z0-9_-]{1,32}; the key under [plugins.<id>] */
    const char *name;
    const char *version;        /* semver */
    const char *description;
    const char *license;        /* SPDX; BPF programs need a GPL-compatible one */
    const char *const *hook_kinds;  /* policy sections served: "tracepoints", "kprobes", ... */
    uint32_t hook_kind_count;
    const char *const *event_kinds; /* "process_exec", "process_kprobe", ... */
    uint32_t event_kind_count;
    const char *const *arg_types;   /* policy argument types it can read and decode */
    uint32_t arg_type_count;
    const vigil_map_use *shared_maps;
    uint32_t shared_map_count;
    const vigil_config_field *config_fields;
    uint32_t config_field_count;
    /* ABI 1.2 (a host reads them only when struct_size covers them): event kinds the plugin
     * needs another running plugin to emit. A plugin reading the shared process cache
     * (vigil_procs, vigil/bpf/process.h) needs "process_exec", "process_clone" and
     * "process_exit": the sensor emitting them (the tracepoint plugin) keeps the cache current.
     * The host refuses to start the plugin without such a provider, and to disable the provider
     * while the plugin runs. */
    uint32_t needs_event_count;
    const char *const *needs_events;
} vigil_descriptor;

/* One validated config value, in the order of the plugin's config_fields. */
typedef struct vigil_config_value {
    uint32_t struct_size;
    const char *key;
    uint32_t type;     /* vigil_config_type */
    uint32_t is_set;   /* 0: absent from the TOML, the plugin uses its default */
    int64_t int_value; /* also 0/1 for VIGIL_CONFIG_BOOL */
    const char *str_value;           /* VIGIL_CONFIG_STRING */
    const char *const *list_values;  /* VIGIL_CONFIG_STRING_LIST */
    uint32_t list_count;
} vigil_config_value;

/* Process lifecycle facts carried by process_exec / process_clone / process_exit events, so the
 * host's process cache stays in step with the kernel. Strings are valid during the emit call. */
typedef enum vigil_process_op {
    VIGIL_PROC_EXEC = 1,
    VIGIL_PROC_CLONE = 2,
    VIGIL_PROC_EXIT = 3,
} vigil_process_op;

typedef struct vigil_process_update {
    uint32_t struct_size;
    uint32_t op;            /* vigil_process_op */
    uint32_t pid;           /* thread-group id */
    uint32_t tid;
    uint64_t ktime;         /* boot-time ns the process (exec) started: half of its key */
    uint32_t ppid;
    uint32_t pad0;
    uint64_t parent_ktime;  /* key of the parent; 0 when unknown */
    uint32_t uid, euid, gid, egid, auid;
    uint32_t flags;         /* VIGIL_PROC_F_* from vigil/bpf/process.h */
    const char *binary; size_t binary_len;
    const char *args; size_t args_len;   /* arguments after argv[0], NUL-separated */
    const char *cwd; size_t cwd_len;
    uint64_t cap_permitted, cap_effective, cap_inheritable;
    uint32_t ns[10];        /* uts, ipc, mnt, pid, pid_for_children, net, time, time_for_children, cgroup, user */
    uint64_t cgroup_id;
    const char *cgroup_name; size_t cgroup_name_len;
    uint32_t exit_code;     /* raw wait status for VIGIL_PROC_EXIT */
    uint32_t pad1;
    /* ABI 1.1; a host reads them only when struct_size covers them. */
    const char *cgroup_path; size_t cgroup_path_len; /* the cgroup that names the container:
                            "/a/b", or ".../parent/leaf" when deeper; cgroup_name is its leaf */
    uint64_t cgroup1_id;    /* the task's cgroup in the hybrid host's v1 controller hierarchy; 0 = none */
} vigil_process_update;

/* An event a plugin hands to the host. `body_json` holds the members of the event object
 * (without braces), e.g. "\"function_name\":\"fd_install\",\"args\":[...]"; the host adds
 * process, parent and ancestors from its cache, and node_name and time. */
typedef struct vigil_event {
    uint32_t struct_size;
    uint32_t pid;              /* thread-group id the event is about */
    uint32_t tid;
    uint32_t pad0;
    uint64_t ktime;            /* boot-time ns when it happened */
    uint64_t proc_ktime;       /* key of the process (exec ktime); 0: look up by pid */
    const char *kind;          /* one of the descriptor's event_kinds */
    const char *body_json; size_t body_json_len;
    const char *summary; size_t summary_len;  /* short human text for compact output */
    const char *policy_name;   /* NULL for sensor events */
    const vigil_process_update *process;      /* NULL unless a lifecycle event */
    /* ABI 1.2: a second process the event is about (a signal's target, a ptrace victim, a
     * connection's peer). The host writes it as a full process object, exec_id included, from
     * its process cache under the member other_key ([a-z_]{1,32}, e.g. "target"); other_pid 0 or
     * other_key NULL: none. Older hosts ignore it (they read no field past their struct_size). */
    const char *other_key;
    uint32_t other_pid;        /* thread-group id */
    uint32_t pad1;
    uint64_t other_proc_ktime; /* its key (exec ktime) when known; 0: the live process of that pid */
} vigil_event;

/* Metadata providers (ABI 1.1): a plugin that knows containers (a runtime client) tells the host
 * what it learns; the host owns the container table and joins it to processes by container id
 * (the id the runtimes put in cgroup names). */
typedef struct vigil_key_value {
    const char *key; size_t key_len;
    const char *value; size_t value_len;
} vigil_key_value;

typedef enum vigil_container_op {
    VIGIL_CONTAINER_UPSERT = 1, /* add or replace everything known of the container */
    VIGIL_CONTAINER_DELETE = 2, /* gone; only id is read */
} vigil_container_op;

/* One container. Strings need not be NUL-terminated and are valid during the call; empty
 * (len 0) = unknown. */
typedef struct vigil_container_info {
    uint32_t struct_size;
    uint32_t op;                       /* vigil_container_op */
    const char *id; size_t id_len;     /* full container id */
    const char *runtime; size_t runtime_len; /* "containerd", "cri-o", "docker", ... */
    const char *name; size_t name_len; /* container name (Kubernetes: the pod spec's) */
    const char *image_name; size_t image_name_len;
    const char *image_id; size_t image_id_len;
    int64_t start_time_ns;             /* wall clock, ns since the epoch; 0 = unknown */
    /* the pod, when the container is one of a pod's; pod_name_len 0 = not in a pod */
    const char *pod_name; size_t pod_name_len;
    const char *pod_namespace; size_t pod_namespace_len;
    const char *pod_uid; size_t pod_uid_len;
    const vigil_key_value *pod_labels; uint32_t pod_label_count;
    uint32_t pad0;
    const vigil_key_value *pod_annotations; uint32_t pod_annotation_count;
    uint32_t pad1;
} vigil_container_info;

/* Policy sources (ABI 1.3): a plugin that keeps policies elsewhere (the fleet's key-value
 * bucket) hands each document to the host, which applies it as `vigil policy add` would and
 * answers with a verdict. */
typedef enum vigil_policy_op {
    VIGIL_POLICY_PUT = 1,    /* add the document, or replace what the key held */
    VIGIL_POLICY_DELETE = 2, /* remove what the key held */
} vigil_policy_op;

typedef struct vigil_policy_doc {
    uint32_t struct_size;
    uint32_t op;                       /* vigil_policy_op */
    const char *key; size_t key_len;   /* the source's name of the document, the same across changes */
    const char *yaml; size_t yaml_len; /* VIGIL_POLICY_PUT: a TracingPolicy document */
    uint64_t revision;                 /* the source's revision, handed back with the verdict */
} vigil_policy_doc;

typedef struct vigil_policy_verdict {
    uint32_t struct_size;
    uint32_t pad0;
    const char *key;
    uint64_t revision;
    const char *state;  /* "loaded", "refused", "skipped" (its nodeSelector does not match), "deleted" */
    const char *policy; /* the policy's metadata.name; "" when refused before it was read */
    const char *mode;   /* "enforce", "monitor"; "" when not loaded */
    const char *error;  /* why it was refused; "" otherwise */
} vigil_policy_verdict;

/* Services the host offers a plugin. Valid from init until destroy returns. */
typedef struct vigil_host_api {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t pad0;
    void *ctx; /* passed back as the first argument of every callback */
    /* Every callback of a host of this ABI is set; container_update is NULL in hosts before 1.1. */
    void (*log)(void *ctx, uint32_t level, const char *msg, size_t len);
    /* A new fd (the caller closes it) for a host-owned shared map, or -errno: -ENOENT for an
     * unknown name, -EPROTO when layout_version differs from the host's. */
    int (*shared_map_fd)(void *ctx, const char *name, uint32_t layout_version);
    /* The host polls this BPF ring buffer map and calls the plugin's decode() with ring_id for
     * each record. The host dups the fd. */
    vigil_result (*add_ring)(void *ctx, int map_fd, uint32_t ring_id, char *err, size_t err_len);
    /* The host keeps a dup of every BPF link so disabling the plugin always detaches it.
     * owner_tag groups links (e.g. a policy name) for remove_links; NULL = the plugin itself. */
    vigil_result (*register_link)(void *ctx, int link_fd, const char *owner_tag, char *err, size_t err_len);
    void (*remove_links)(void *ctx, const char *owner_tag);
    /* Whether the running kernel supports a named feature (see `vigil status`); 1, 0, or -1
     * for a feature name the host does not know. */
    int (*has_feature)(void *ctx, const char *feature);
    /* A record counter the host exports: errors a plugin sees while decoding, and the like. */
    void (*count)(void *ctx, const char *counter, uint64_t delta);
    /* ABI 1.1 (NULL in older hosts; check abi_minor). A metadata provider's news about one
     * container. Callable from any thread of the plugin between start and stop; never blocks
     * (the host queues it for its event loop). */
    void (*container_update)(void *ctx, const vigil_container_info *info);
    /* ABI 1.3 (check abi_minor). The agent's node name ([agent] node_name). */
    const char *node_name;
    /* ABI 1.3, policy sources. Callable from any thread between start and stop; never blocks
     * (the host queues the document for its event loop, copying it). The verdict comes back
     * through the plugin's policy_verdict. */
    void (*policy_update)(void *ctx, const vigil_policy_doc *doc);
} vigil_host_api;

typedef void (*vigil_emit_fn)(void *emit_ctx, const vigil_event *event);

/* A hook of a policy, given to the plugin that serves its kind. `spec_json` is the hook's
 * part of the validated policy as JSON; `compiled` the host's selector encoding. */
typedef struct vigil_hook_request {
    uint32_t struct_size;
    uint32_t enforce;          /* 1: carry out Sigkill/Signal/Override; 0: monitor mode */
    const char *policy_name;
    uint32_t policy_id;
    uint32_t hook_index;       /* index of the hook inside its section */
    const char *kind;          /* "tracepoints", "kprobes", ... */
    const char *spec_json; size_t spec_json_len;
    const void *compiled; size_t compiled_len;
} vigil_hook_request;

typedef struct vigil_hook_status {
    uint32_t struct_size;
    char strategy[32];         /* how it attached: "tracepoint", "raw_tp", "kprobe", ... */
    char detail[128];
} vigil_hook_status;

/* Counters of one hook, summed over CPUs (see enum vsel_stat in vigil/wire/selectors.h). */
typedef struct vigil_hook_stats {
    uint32_t struct_size;
    uint32_t pad0;
    uint64_t matched;      /* a selector matched */
    uint64_t posted;       /* events sent */
    uint64_t rate_limited; /* Posts suppressed by rateLimit */
    uint64_t enforced;     /* Sigkill/Signal/Override carried out */
    uint64_t monitored;    /* Sigkill/Signal/Override counted but not done (monitor mode) */
    /* Since ABI 1.2's SDK revision with vigil/wire/shed.h; a plugin writes only the members that
     * fit in the caller's struct_size, and a host reads 0 from a plugin that does not know them. */
    uint64_t shed;         /* posts dropped for overload (ring over 3/4 full) or the cgroup rate */
    uint64_t ring_full;    /* posts the ring had no room for */
} vigil_hook_stats;

/* Exporters (ABI 1.3): one rendered event handed to an exporter plugin. The JSON is what the
 * built-in JSON file gets (one object, no newline); the typed fields spare the exporter parsing it.
 * Everything is valid only during the export_events call. */
typedef struct vigil_export_event {
    uint32_t struct_size;
    uint32_t pad0;
    const char *kind; size_t kind_len;   /* "process_exec", ...: the object's one top-level key */
    const char *node; size_t node_len;   /* the agent's node_name */
    const char *json; size_t json_len;
} vigil_export_event;

/* Events an exporter dropped for one reason ("buffer_full", "too_large", "rejected", ...). */
typedef struct vigil_export_loss {
    char reason[24];      /* NUL-terminated; "" = unused slot */
    uint64_t count;
} vigil_export_loss;

/* What became of the events an exporter took, for `vigil status` and the metrics. */
typedef struct vigil_export_status {
    uint32_t struct_size;
    uint32_t connected;   /* 1: the destination takes events now */
    uint64_t accepted;    /* events export_events took */
    uint64_t delivered;   /* confirmed by the destination (acknowledged) */
    uint64_t pending;     /* taken and not confirmed yet (buffered or in flight) */
    uint64_t errors;      /* failed attempts: connects, publishes, acknowledgments that never came */
    vigil_export_loss lost[8]; /* dropped by the exporter, by reason */
    char detail[160];     /* the state or the last error, one line */
} vigil_export_status;

typedef struct vigil_plugin_api {
    uint32_t struct_size;      /* [required] sizeof(vigil_plugin_api) as the plugin knows it */
    /* [required] The plugin's descriptor, valid while the library is loaded. */
    const vigil_descriptor *(*descriptor)(void);
    /* [required] Creates the plugin instance; nothing is loaded into the kernel yet. */
    vigil_result (*init)(const vigil_host_api *host, const vigil_config_value *config,
                         uint32_t config_count, void **self, char *err, size_t err_len);
    /* [required] Loads and attaches the plugin's own sensors. */
    vigil_result (*start)(void *self, char *err, size_t err_len);
    /* [required] Detaches everything; the instance may be started again. Records its programs
     * posted before may still be in its rings: decode must take them until destroy (or the next
     * start). */
    vigil_result (*stop)(void *self, char *err, size_t err_len);
    /* [required] */
    void (*destroy)(void *self);
    /* [required] Turns one ring-buffer record into zero or more events via emit. May be called
     * for one ring while a decode of another of the plugin's rings is inside emit (the host drains
     * the other rings when an event's process is not known yet), never for the same ring: keep
     * decode scratch per ring. */
    vigil_result (*decode)(void *self, uint32_t ring_id, const void *data, size_t len,
                           vigil_emit_fn emit, void *emit_ctx, char *err, size_t err_len);
    /* [group: policy hooks] All four set when the descriptor lists hook kinds, all four NULL
     * when it lists none; the host refuses any other mix, naming what is missing. */
    vigil_result (*add_hook)(void *self, const vigil_hook_request *req, uint64_t *hook_handle,
                             vigil_hook_status *status, char *err, size_t err_len);
    vigil_result (*remove_hook)(void *self, uint64_t hook_handle, char *err, size_t err_len);
    vigil_result (*set_hook_mode)(void *self, uint64_t hook_handle, uint32_t enforce,
                                  char *err, size_t err_len);
    vigil_result (*hook_stats)(void *self, uint64_t hook_handle, vigil_hook_stats *stats,
                               char *err, size_t err_len);
    /* [optional] ABI 1.1, metadata providers only (absent from older plugins: the host checks
     * struct_size). The host saw processes of a container it has no metadata for. Must return
     * at once: the provider looks it up on its own thread, rate-limited, and answers with
     * container_update (or not, when it does not know the container). */
    void (*container_wanted)(void *self, const char *id, size_t id_len);
    /* [group: exporter] ABI 1.3 (absent from older plugins: the host checks struct_size). Set
     * both to make the plugin an output: the host renders every exported event and offers it here
     * from a thread of the exporter's own (never the event loop), in order, one call at a time,
     * only while the plugin is started. An exporter sets *accepted to how many of the first events
     * it took (copied: the pointers die with the call) and returns VIGIL_OK when it took them all,
     * VIGIL_ERR_BUSY when it is full (the host offers the rest again later, and counts what its
     * own bounded queue cannot hold meanwhile), another result for an error. It must return
     * quickly: a slow destination is the exporter's to buffer. decode may be NULL in an exporter
     * that has no rings. */
    vigil_result (*export_events)(void *self, const vigil_export_event *events, uint32_t count,
                                  uint32_t *accepted, char *err, size_t err_len);
    /* Any thread, never blocks. */
    void (*export_status)(void *self, vigil_export_status *status);
    /* [optional] ABI 1.3, policy sources: what the host made of a document handed to
     * policy_update. Called on the host's event loop: copy what you need and return. */
    void (*policy_verdict)(void *self, const vigil_policy_verdict *verdict);
} vigil_plugin_api;

typedef const vigil_plugin_api *(*vigil_plugin_entry_fn)(void);

/* The one symbol a plugin exports (ABI 1.2): define it with default visibility, e.g.
 *   __attribute__((visibility("default"))) const vigil_plugin_api *vigil_plugin_get_api(void)
 * It is called once, right after the library is loaded, and must return the same table each time. */
const vigil_plugin_api *vigil_plugin_get_api(void);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_PLUGIN_ABI_H */
