#include "btf_prototype.hpp"

#include <bpf/btf.h>
#include <fmt/format.h>

#include <map>

namespace vigil::kprobe {

namespace {

// Follows typedefs and qualifiers; returns the id of the type underneath.
__u32 skip_mods(const btf* b, __u32 id, bool skip_typedefs)
{
    for (int depth = 0; depth < 32 && id; ++depth) {
        const btf_type* t = btf__type_by_id(b, id);
        if (!t)
            return 0;
        int k = btf_kind(t);
        if (k == BTF_KIND_CONST || k == BTF_KIND_VOLATILE || k == BTF_KIND_RESTRICT || k == BTF_KIND_TYPE_TAG ||
            (skip_typedefs && k == BTF_KIND_TYPEDEF))
            id = t->type;
        else
            return id;
    }
    return id;
}

std::string name_of(const btf* b, const btf_type* t)
{
    const char* n = btf__name_by_offset(b, t->name_off);
    return n ? n : "";
}

// The type as C writes it, for messages.
std::string c_type(const btf* b, __u32 id, int depth = 0)
{
    if (id == 0)
        return "void";
    const btf_type* t = btf__type_by_id(b, id);
    if (!t || depth > 16)
        return "?";
    switch (btf_kind(t)) {
    case BTF_KIND_PTR: {
        std::string inner = c_type(b, t->type, depth + 1);
        return inner.ends_with('*') ? inner + "*" : inner + " *";
    }
    case BTF_KIND_CONST: return "const " + c_type(b, t->type, depth + 1);
    case BTF_KIND_VOLATILE: return "volatile " + c_type(b, t->type, depth + 1);
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG: return c_type(b, t->type, depth + 1);
    case BTF_KIND_STRUCT: return "struct " + name_of(b, t);
    case BTF_KIND_UNION: return "union " + name_of(b, t);
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64: return "enum " + name_of(b, t);
    case BTF_KIND_FUNC_PROTO: return "function";
    default: return name_of(b, t);
    }
}

} // namespace

std::string BtfPrototype::text() const
{
    std::string s = function + "(";
    for (size_t i = 0; i < params.size(); ++i) {
        if (i)
            s += ", ";
        s += params[i].type;
        if (!params[i].name.empty())
            s += (params[i].type.ends_with('*') ? "" : " ") + params[i].name;
    }
    return s + ")";
}

std::optional<BtfPrototype> btf_prototype(const btf* b, const std::string& function)
{
    if (!b)
        return std::nullopt;
    __s32 id = btf__find_by_name_kind(b, function.c_str(), BTF_KIND_FUNC);
    if (id <= 0)
        return std::nullopt;
    const btf_type* fn = btf__type_by_id(b, static_cast<__u32>(id));
    const btf_type* proto = fn ? btf__type_by_id(b, fn->type) : nullptr;
    if (!proto || btf_kind(proto) != BTF_KIND_FUNC_PROTO)
        return std::nullopt;
    BtfPrototype p;
    p.function = function;
    const btf_param* params = btf_params(proto);
    for (__u16 i = 0; i < btf_vlen(proto); ++i) {
        BtfParam param;
        const char* n = btf__name_by_offset(b, params[i].name_off);
        param.name = n ? n : "";
        param.type = c_type(b, params[i].type);
        __u32 under = skip_mods(b, params[i].type, true);
        const btf_type* t = btf__type_by_id(b, under);
        if (t && btf_kind(t) == BTF_KIND_PTR) {
            param.pointer = true;
            const btf_type* target = btf__type_by_id(b, skip_mods(b, t->type, true));
            if (target && (btf_kind(target) == BTF_KIND_STRUCT || btf_kind(target) == BTF_KIND_UNION))
                param.pointee = (btf_kind(target) == BTF_KIND_STRUCT ? "struct " : "union ") + name_of(b, target);
        }
        p.params.push_back(std::move(param));
    }
    return p;
}

std::optional<std::string> arg_mismatch(const std::string& type, const BtfParam& param)
{
    // Policy types that read a kernel object through a pointer to it.
    static const std::map<std::string, std::string, std::less<>> objects = {
        {"file", "struct file"},       {"path", "struct path"},          {"dentry", "struct dentry"},
        {"cred", "struct cred"},       {"sock", "struct sock"},          {"socket", "struct socket"},
        {"skb", "struct sk_buff"},     {"sockaddr", "struct sockaddr"},  {"linux_binprm", "struct linux_binprm"},
        {"net_device", "struct net_device"}, {"bpf_attr", "union bpf_attr"}, {"bpf_map", "struct bpf_map"},
        {"perf_event", "struct perf_event"}, {"module", "struct module"}, {"user_namespace", "struct user_namespace"},
        {"iov_iter", "struct iov_iter"},
    };
    if (auto it = objects.find(type); it != objects.end()) {
        if (param.pointee == it->second)
            return std::nullopt;
        return fmt::format("type {} reads a {} *, but the parameter is {}", type, it->second, param.type);
    }
    if (type == "string" || type == "char_buf" || type == "char_iovec" || type == "filename") {
        if (param.pointer)
            return std::nullopt;
        return fmt::format("type {} reads memory through a pointer, but the parameter is {}", type, param.type);
    }
    return std::nullopt;
}

} // namespace vigil::kprobe
