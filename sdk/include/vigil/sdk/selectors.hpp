// Compiled selectors as they cross the plugin ABI (vigil_hook_request.compiled) and get
// installed into a hook object's maps. The host builds a CompiledSelectors from a policy hook
// (host/policy/compiler), serialises it, and the plugin parses and installs it before attaching.
#pragma once

#include <vigil/wire/selectors.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::sdk {

struct CompiledSelectors {
    vsel_hook hook{};
    std::vector<vsel_str_key> strings;
    std::vector<vsel_lpm_key> prefixes;
    std::vector<vsel_lpm_key> postfixes; // data already reversed
    std::vector<vsel_int_key> ints;
    std::vector<vsel_net_key> nets;

    CompiledSelectors() { hook.layout = VSEL_LAYOUT; }

    // The longest string value the kernel side can tell apart from a longer, cut string.
    static constexpr size_t max_value_len = VSEL_STR_MAX - 2;

    // Adds an exact string value of filter `id`. False when longer than max_value_len.
    bool add_string(uint32_t id, std::string_view s)
    {
        if (s.size() > max_value_len)
            return false;
        vsel_str_key k{};
        k.filter_id = id;
        k.len = static_cast<uint32_t>(s.size());
        std::memcpy(k.data, s.data(), s.size());
        strings.push_back(k);
        return true;
    }
    bool add_prefix(uint32_t id, std::string_view s)
    {
        if (s.size() > max_value_len)
            return false;
        prefixes.push_back(lpm(id, s, false));
        return true;
    }
    bool add_postfix(uint32_t id, std::string_view s)
    {
        if (s.size() > max_value_len)
            return false;
        postfixes.push_back(lpm(id, s, true));
        return true;
    }
    void add_int(uint32_t id, int64_t v)
    {
        vsel_int_key k{};
        k.filter_id = id;
        k.value = v;
        ints.push_back(k);
    }

    // An IPv4 (4 bytes) or IPv6 (16 bytes) CIDR prefix of filter `id`; bits past prefix_len are
    // cleared. False for another address size or a prefix longer than the address.
    bool add_net_prefix(uint32_t id, std::span<const uint8_t> addr, uint32_t prefix_len)
    {
        if ((addr.size() != 4 && addr.size() != 16) || prefix_len > addr.size() * 8)
            return false;
        vsel_net_key k{};
        k.filter_id = id;
        k.field = addr.size() == 4 ? VSEL_NET_V4 : VSEL_NET_V6;
        k.prefixlen = VSEL_NET_HEADER_BITS + prefix_len;
        for (size_t i = 0; i < addr.size(); ++i) {
            uint32_t bits = prefix_len > i * 8 ? prefix_len - static_cast<uint32_t>(i) * 8 : 0;
            uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00u >> bits);
            k.data[i] = addr[i] & mask;
        }
        nets.push_back(k);
        return true;
    }

    // The 16-bit values min..max of filter `id` (field: a vsel_net_field other than V4/V6), as
    // the fewest aligned power-of-two blocks. Returns how many entries that took.
    size_t add_net_range(uint32_t id, uint8_t field, uint16_t min, uint16_t max)
    {
        size_t added = 0;
        uint32_t lo = min, hi = max;
        while (lo <= hi) {
            uint32_t bits = 0; // trailing bits the block covers
            while (bits < 16 && (lo & ((2u << bits) - 1)) == 0 && lo + (2u << bits) - 1 <= hi)
                ++bits;
            vsel_net_key k{};
            k.filter_id = id;
            k.field = field;
            k.prefixlen = VSEL_NET_HEADER_BITS + 16 - bits;
            k.data[0] = static_cast<uint8_t>(lo >> 8);
            k.data[1] = static_cast<uint8_t>(lo);
            nets.push_back(k);
            ++added;
            lo += 1u << bits;
        }
        return added;
    }

    std::string serialize() const
    {
        header h{magic, VSEL_LAYOUT, count(strings), count(prefixes), count(postfixes), count(ints), count(nets)};
        std::string out;
        out.reserve(sizeof h + sizeof hook + strings.size() * sizeof(vsel_str_key) +
                    (prefixes.size() + postfixes.size()) * sizeof(vsel_lpm_key) + ints.size() * sizeof(vsel_int_key) +
                    nets.size() * sizeof(vsel_net_key));
        append(out, &h, sizeof h);
        append(out, &hook, sizeof hook);
        append(out, strings.data(), strings.size() * sizeof(vsel_str_key));
        append(out, prefixes.data(), prefixes.size() * sizeof(vsel_lpm_key));
        append(out, postfixes.data(), postfixes.size() * sizeof(vsel_lpm_key));
        append(out, ints.data(), ints.size() * sizeof(vsel_int_key));
        append(out, nets.data(), nets.size() * sizeof(vsel_net_key));
        return out;
    }

    static std::expected<CompiledSelectors, std::string> parse(const void* data, size_t len)
    {
        const auto* p = static_cast<const unsigned char*>(data);
        header h;
        if (!data || len < sizeof h + sizeof(vsel_hook))
            return std::unexpected("compiled selectors: " + std::to_string(len) + " bytes is too short");
        std::memcpy(&h, p, sizeof h);
        if (h.magic != magic)
            return std::unexpected(std::string("compiled selectors: bad magic"));
        if (h.layout != VSEL_LAYOUT)
            return std::unexpected("compiled selectors: layout " + std::to_string(h.layout) + ", this SDK reads " +
                                   std::to_string(VSEL_LAYOUT));
        uint64_t need = sizeof h + sizeof(vsel_hook) + uint64_t(h.nstrings) * sizeof(vsel_str_key) +
                        (uint64_t(h.nprefixes) + h.npostfixes) * sizeof(vsel_lpm_key) +
                        uint64_t(h.nints) * sizeof(vsel_int_key) + uint64_t(h.nnets) * sizeof(vsel_net_key);
        if (need != len)
            return std::unexpected("compiled selectors: " + std::to_string(len) + " bytes, header says " +
                                   std::to_string(need));
        CompiledSelectors c;
        size_t off = sizeof h;
        std::memcpy(&c.hook, p + off, sizeof c.hook);
        off += sizeof c.hook;
        take(c.strings, h.nstrings, p, off);
        take(c.prefixes, h.nprefixes, p, off);
        take(c.postfixes, h.npostfixes, p, off);
        take(c.ints, h.nints, p, off);
        take(c.nets, h.nnets, p, off);
        if (c.hook.nselectors > VSEL_MAX_SELECTORS)
            return std::unexpected(std::string("compiled selectors: too many selectors"));
        return c;
    }

    // What the filters read (vsel_hook.needs), from the selectors themselves.
    static uint32_t compute_needs(const vsel_hook& h)
    {
        uint32_t needs = 0;
        for (uint32_t i = 0; i < h.nselectors && i < VSEL_MAX_SELECTORS; ++i) {
            const vsel_selector& s = h.sel[i];
            for (uint32_t p = 0; p < s.npids && p < VSEL_MAX_PID_FILTERS; ++p) {
                if (s.pids[p].flags & VSEL_PID_NAMESPACE)
                    needs |= VSEL_NEED_NSPID;
                if (s.pids[p].flags & VSEL_PID_FOLLOW_FORKS)
                    needs |= VSEL_NEED_ANCESTORS;
            }
            if (s.nns)
                needs |= VSEL_NEED_NS | VSEL_NEED_NSPID;
            if (s.ncaps)
                needs |= VSEL_NEED_CAPS;
            if (s.has_binary && s.binary.follow_children)
                needs |= VSEL_NEED_ANCESTORS;
        }
        return needs;
    }

    // Writes everything into the hook object's selector maps (after load, before attach).
    // Returns 0 or -errno, with `what` naming the map that failed.
    int install(bpf_object* obj, std::string& what) const
    {
        auto fd_of = [&](const char* name) {
            bpf_map* m = bpf_object__find_map_by_name(obj, name);
            return m ? bpf_map__fd(m) : -1;
        };
        const uint8_t one = 1;
        uint32_t zero = 0;
        vsel_hook h = hook;
        h.needs = compute_needs(h);
        int fd = fd_of("vsel_config");
        if (fd < 0 || bpf_map_update_elem(fd, &zero, &h, BPF_ANY)) {
            what = "vsel_config";
            return fd < 0 ? -ENOENT : -errno;
        }
        auto fill = [&](const char* name, const auto& items) {
            if (items.empty())
                return 0;
            int mfd = fd_of(name);
            if (mfd < 0) {
                what = name;
                return -ENOENT;
            }
            for (const auto& k : items)
                if (bpf_map_update_elem(mfd, &k, &one, BPF_ANY)) {
                    what = name;
                    return -errno;
                }
            return 0;
        };
        if (int e = fill("vsel_strings", strings))
            return e;
        if (int e = fill("vsel_prefixes", prefixes))
            return e;
        if (int e = fill("vsel_postfixes", postfixes))
            return e;
        if (int e = fill("vsel_ints", ints))
            return e;
        return fill("vsel_net", nets);
    }

    // Flips enforce/monitor in a loaded hook object.
    static int set_enforce(bpf_object* obj, bool enforce)
    {
        bpf_map* m = bpf_object__find_map_by_name(obj, "vsel_config");
        if (!m)
            return -ENOENT;
        uint32_t zero = 0;
        vsel_hook h;
        if (bpf_map_lookup_elem(bpf_map__fd(m), &zero, &h))
            return -errno;
        h.enforce = enforce ? 1 : 0;
        return bpf_map_update_elem(bpf_map__fd(m), &zero, &h, BPF_ANY) ? -errno : 0;
    }

private:
    static constexpr uint32_t magic = 0x4c455356; // "VSEL"
    struct header {
        uint32_t magic, layout, nstrings, nprefixes, npostfixes, nints, nnets;
    };
    static uint32_t count(const auto& v) { return static_cast<uint32_t>(v.size()); }
    static void append(std::string& out, const void* p, size_t n)
    {
        out.append(static_cast<const char*>(p), n);
    }
    template <class T>
    static void take(std::vector<T>& v, uint32_t n, const unsigned char* p, size_t& off)
    {
        v.resize(n);
        if (n) // an empty vector's data() may be null, which memcpy must not get even for 0 bytes
            std::memcpy(v.data(), p + off, n * sizeof(T));
        off += n * sizeof(T);
    }
    static vsel_lpm_key lpm(uint32_t id, std::string_view s, bool reversed)
    {
        vsel_lpm_key k{};
        k.prefixlen = 32 + static_cast<uint32_t>(s.size()) * 8;
        k.filter_id = id;
        for (size_t i = 0; i < s.size(); ++i)
            k.data[i] = reversed ? s[s.size() - 1 - i] : s[i];
        return k;
    }
};

} // namespace vigil::sdk
