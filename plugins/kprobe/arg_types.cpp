#include "arg_types.hpp"

#include <vigil/sdk/sock.hpp>
#include <vigil/wire/args.h>

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <string_view>

namespace vigil::kprobe {

namespace {

struct IntType {
    std::string_view name;
    uint8_t size;
    bool is_signed;
    std::string_view key; // Tetragon's KprobeArgument member
};

constexpr IntType int_types[] = {
    {"int", 4, true, "int_arg"},     {"int8", 1, true, "int_arg"},      {"int16", 2, true, "int_arg"},
    {"int32", 4, true, "int_arg"},   {"uint8", 1, false, "uint_arg"},   {"uint16", 2, false, "uint_arg"},
    {"uint32", 4, false, "uint_arg"}, {"int64", 8, true, "long_arg"},   {"uint64", 8, false, "size_arg"},
    {"size_t", 8, false, "size_arg"}, {"syscall64", 8, false, "syscall_id"},
};

// Types read by a path walk, and the key their path goes under.
struct PathType {
    std::string_view name;
    uint8_t read;
    std::string_view key;
};
constexpr PathType path_types[] = {
    {"fd", KP_READ_FD, "file_arg"},
    {"file", KP_READ_FILE, "file_arg"},
    {"path", KP_READ_PATH, "path_arg"},
    {"dentry", KP_READ_DENTRY, "path_arg"},
};

const PathType* path_type(std::string_view name)
{
    for (const auto& t : path_types)
        if (t.name == name)
            return &t;
    return nullptr;
}

bool is_socket_type(std::string_view name)
{
    return name == "sock" || name == "socket" || name == "sockaddr" || name == "skb";
}

const IntType* int_type(std::string_view name)
{
    for (const auto& t : int_types)
        if (t.name == name)
            return &t;
    return nullptr;
}

// Capability names by number, as Tetragon prints them (CAP_CHOWN = 0).
constexpr std::array<std::string_view, 41> cap_names = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

void write_caps(sdk::JsonWriter& out, std::string_view key, uint64_t mask)
{
    out.key(key).begin_array();
    for (size_t n = 0; n < 64; ++n) {
        if (!(mask & (uint64_t{1} << n)))
            continue;
        if (n < cap_names.size())
            out.value(cap_names[n]);
        else
            out.value(fmt::format("CAP_{}", n));
    }
    out.end_array();
}

void write_cred(sdk::JsonWriter& out, const ArgValue& v)
{
    vigil_cred_arg c{};
    std::memcpy(&c, v.arg.value.data(), sizeof c);
    out.key("process_credentials_arg").begin_object();
    out.member("uid", c.uid).member("gid", c.gid).member("euid", c.euid).member("egid", c.egid);
    out.member("suid", c.suid).member("sgid", c.sgid).member("fsuid", c.fsuid).member("fsgid", c.fsgid);
    out.key("caps").begin_object();
    write_caps(out, "permitted", c.cap_permitted);
    write_caps(out, "effective", c.cap_effective);
    write_caps(out, "inheritable", c.cap_inheritable);
    out.end_object();
    out.key("user_ns").begin_object().member("level", c.user_ns_level).end_object();
    out.end_object();
}

} // namespace

const char* action_name(uint32_t signal, bool override_)
{
    if (signal == 9)
        return "KPROBE_ACTION_SIGKILL";
    if (signal)
        return "KPROBE_ACTION_SIGNAL";
    if (override_)
        return "KPROBE_ACTION_OVERRIDE";
    return "KPROBE_ACTION_POST";
}

void write_policy_members(sdk::JsonWriter& out, const std::string& policy, bool acted, bool enforced,
                          const std::string& message, const std::vector<std::string>& tags)
{
    out.member("policy_name", policy);
    if (acted)
        out.member("enforced", enforced);
    if (!message.empty())
        out.member("message", message);
    if (!tags.empty()) {
        out.key("tags").begin_array();
        for (const auto& t : tags)
            out.value(t);
        out.end_array();
    }
}

std::string base64(std::string_view in)
{
    static constexpr char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8 | uint8_t(in[i + 2]);
        out += tab[v >> 18];
        out += tab[(v >> 12) & 63];
        out += tab[(v >> 6) & 63];
        out += tab[v & 63];
    }
    if (i < in.size()) {
        uint32_t v = uint8_t(in[i]) << 16 | (i + 1 < in.size() ? uint8_t(in[i + 1]) << 8 : 0);
        out += tab[v >> 18];
        out += tab[(v >> 12) & 63];
        out += i + 1 < in.size() ? tab[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::expected<kp_arg, std::string> plan_arg(const ArgSpec& a, ArgContext ctx)
{
    kp_arg k{};
    if (a.index >= KP_MAX_RAW_ARGS)
        return std::unexpected(fmt::format("index {} is past the {} arguments a hook can read", a.index,
                                           KP_MAX_RAW_ARGS));
    k.src = static_cast<uint8_t>(a.index);
    if (!a.resolve.empty())
        return std::unexpected(fmt::format("resolve ({}) is not supported by the kprobe plugin", a.resolve));
    if (a.return_copy)
        return std::unexpected(std::string("returnCopy is not supported by the kprobe plugin yet: the buffer "
                                           "would be read before the call filled it"));
    bool sys = ctx != ArgContext::kernel;
    if (const IntType* t = int_type(a.type)) {
        k.read = KP_READ_INT;
        k.size = t->size;
        k.is_signed = t->is_signed;
        k.enc = t->is_signed ? VHOOK_ENC_S64 : VHOOK_ENC_U64;
        return k;
    }
    auto kernel_only = [&](uint8_t read, uint8_t enc) -> std::expected<kp_arg, std::string> {
        if (sys)
            return std::unexpected(fmt::format("type {} is a kernel object; {} argument is an integer or a "
                                               "user pointer (use fd, string, filename or char_buf)",
                                               a.type, ctx == ArgContext::user ? "a user-space function's" : "a syscall"));
        k.read = read;
        k.enc = enc;
        return k;
    };
    if (a.type == "string") {
        k.read = sys ? KP_READ_USER_STR : KP_READ_KERNEL_STR;
        k.enc = VHOOK_ENC_STRING;
        return k;
    }
    if (a.type == "filename") {
        // A syscall gets the name as a user string; kernel functions get a struct filename.
        k.read = sys ? KP_READ_USER_STR : KP_READ_FILENAME;
        k.enc = VHOOK_ENC_STRING;
        return k;
    }
    if (a.type == "char_buf") {
        if (a.size_arg_index > KP_MAX_RAW_ARGS)
            return std::unexpected(fmt::format("sizeArgIndex {} is past the {} arguments a hook can read",
                                               a.size_arg_index, KP_MAX_RAW_ARGS));
        k.read = sys ? KP_READ_USER_BUF : KP_READ_KERNEL_BUF;
        k.enc = VHOOK_ENC_BYTES;
        k.size_src = static_cast<uint8_t>(a.size_arg_index);
        return k;
    }
    if (a.type == "cred")
        return kernel_only(KP_READ_CRED, VHOOK_ENC_BYTES);
    // Socket types travel as a struct vsock_arg, decoded with the SDK's socket decoders.
    if (a.type == "sock")
        return kernel_only(KP_READ_SOCK, VHOOK_ENC_BYTES);
    if (a.type == "socket")
        return kernel_only(KP_READ_SOCKET, VHOOK_ENC_BYTES);
    if (a.type == "skb")
        return kernel_only(KP_READ_SKB, VHOOK_ENC_BYTES);
    if (a.type == "sockaddr") {
        k.read = sys ? KP_READ_USER_SOCKADDR : KP_READ_SOCKADDR;
        k.enc = VHOOK_ENC_BYTES;
        return k;
    }
    if (const PathType* t = path_type(a.type)) {
        if (t->read == KP_READ_FD) { // an fd is an integer in syscalls and kernel functions alike
            k.read = t->read;
            k.enc = VHOOK_ENC_STRING;
            return k;
        }
        return kernel_only(t->read, VHOOK_ENC_STRING);
    }
    return std::unexpected(fmt::format("argument type {} is not supported by the kprobe plugin (supported: integer "
                                       "types, string, filename, char_buf, fd, file, path, dentry, cred, sock, socket, sockaddr, skb)",
                                       a.type));
}

std::expected<kp_arg, std::string> plan_return_arg(const std::string& type)
{
    const IntType* t = int_type(type);
    if (!t)
        return std::unexpected(fmt::format("returnArg type {} is not supported: the kprobe plugin reads return "
                                           "values as integers",
                                           type));
    kp_arg k{};
    k.read = KP_READ_INT;
    k.size = t->size;
    k.is_signed = t->is_signed;
    k.enc = t->is_signed ? VHOOK_ENC_S64 : VHOOK_ENC_U64;
    return k;
}

void write_int_value(sdk::JsonWriter& out, const std::string& type, int64_t v)
{
    const IntType* t = int_type(type);
    std::string_view key = t ? t->key : "long_arg";
    if (key == "syscall_id") {
        // bit 30 set: an x32 syscall; ids of 32-bit processes are not told apart here
        out.key(key).begin_object().member("id", static_cast<uint64_t>(v & 0x3fffffff));
        out.member("abi", (v & 0x40000000) ? "x32" : "x64").end_object();
    } else if (t && !t->is_signed) {
        out.member(key, static_cast<uint64_t>(v));
    } else {
        out.member(key, v);
    }
}

void write_arg(sdk::JsonWriter& out, const std::string& type, const std::string& label, const ArgValue& v)
{
    out.begin_object();
    if (v.failed()) {
        out.key("error_arg").begin_object().member("Message", fmt::format("reading the {} argument failed", type));
        out.end_object();
    } else if (v.is_int()) {
        write_int_value(out, type, v.as_int());
    } else if (type == "char_buf") {
        if (v.truncated()) {
            out.key("truncated_bytes_arg").begin_object();
            out.member("bytes_arg", base64(v.text())).member("orig_size", static_cast<uint64_t>(v.orig_len()));
            out.end_object();
        } else {
            out.member("bytes_arg", base64(v.text()));
        }
    } else if (type == "cred" && v.arg.value.size() >= sizeof(vigil_cred_arg)) {
        write_cred(out, v);
    } else if (is_socket_type(type)) {
        if (auto r = sdk::sock::write_arg(out, v.arg.value); !r)
            out.key("error_arg").begin_object().member("Message", r.error()).end_object();
    } else if (const PathType* t = path_type(type)) {
        out.key(t->key).begin_object().member("path", v.text());
        if (v.truncated())
            out.member("truncated", true);
        out.end_object();
    } else {
        out.member("string_arg", v.text());
        if (v.truncated())
            out.member("truncated", true);
    }
    if (!label.empty())
        out.member("label", label);
    out.end_object();
}

} // namespace vigil::kprobe
