#include "process/procfs.hpp"

#include "core/fd.hpp"

#include <vigil/sdk/cgroups.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace vigil::procfs {

namespace {

template <class T>
bool to_num(std::string_view s, T& out, int base = 10)
{
    if (s.empty())
        return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> split_ws(std::string_view s)
{
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
            ++i;
        size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n')
            ++j;
        if (j > i)
            out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// Calls f(line) for each line of text (without the newline).
template <class F>
void for_each_line(std::string_view text, F&& f)
{
    size_t i = 0;
    while (i < text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string_view::npos)
            j = text.size();
        f(text.substr(i, j - i));
        i = j + 1;
    }
}

// Reads a whole (small, virtual) file. ENOENT and ESRCH mean the process is gone.
Result<std::string> read_file(const std::filesystem::path& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_errno(errno == ENOENT || errno == ESRCH ? Errc::not_found : Errc::io, errno, "{}",
                          path.string());
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            ::close(fd);
            return fail_errno(err == ESRCH ? Errc::not_found : Errc::io, err, "{}", path.string());
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

Result<std::string> read_link(const std::filesystem::path& path)
{
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n < 0)
        return fail_errno(errno == ENOENT || errno == ESRCH ? Errc::not_found : Errc::io, errno, "{}",
                          path.string());
    return std::string(buf, static_cast<size_t>(n));
}

} // namespace

Result<Stat> parse_stat(std::string_view text)
{
    size_t open = text.find('(');
    size_t close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return fail(Errc::invalid_input, "stat: no \"(comm)\" field");
    Stat st;
    std::string_view pid = text.substr(0, open);
    while (!pid.empty() && pid.back() == ' ')
        pid.remove_suffix(1);
    if (!to_num(pid, st.pid))
        return fail(Errc::invalid_input, "stat: bad pid \"{}\"", pid);
    st.comm = std::string(text.substr(open + 1, close - open - 1));
    // fields after comm, numbered from 3 (state) as in proc(5)
    auto f = split_ws(text.substr(close + 1));
    if (f.size() < 20)
        return fail(Errc::invalid_input, "stat: {} fields after comm, expected at least 20", f.size());
    if (f[0].size() != 1)
        return fail(Errc::invalid_input, "stat: bad state \"{}\"", f[0]);
    st.state = f[0][0];
    if (!to_num(f[1], st.ppid))
        return fail(Errc::invalid_input, "stat: bad ppid \"{}\"", f[1]);
    if (!to_num(f[6], st.flags))
        return fail(Errc::invalid_input, "stat: bad flags \"{}\"", f[6]);
    if (!to_num(f[19], st.starttime))
        return fail(Errc::invalid_input, "stat: bad starttime \"{}\"", f[19]);
    return st;
}

Result<Status> parse_status(std::string_view text)
{
    Status st;
    bool have_tgid = false, have_uid = false, have_gid = false;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || error)
            return;
        std::string_view key = line.substr(0, colon);
        auto vals = split_ws(line.substr(colon + 1));
        auto ids = [&](std::array<uint32_t, 4>& out) {
            if (vals.size() != 4)
                return false;
            for (size_t k = 0; k < 4; ++k)
                if (!to_num(vals[k], out[k]))
                    return false;
            return true;
        };
        auto cap = [&](uint64_t& out) { return vals.size() == 1 && to_num(vals[0], out, 16); };
        bool ok = true;
        if (key == "Tgid") {
            ok = vals.size() == 1 && to_num(vals[0], st.tgid);
            have_tgid = ok;
        } else if (key == "Uid") {
            ok = have_uid = ids(st.uid);
        } else if (key == "Gid") {
            ok = have_gid = ids(st.gid);
        } else if (key == "NSpid") {
            st.nspid.clear();
            for (auto v : vals) {
                uint32_t n = 0;
                if (!(ok = to_num(v, n)))
                    break;
                st.nspid.push_back(n);
            }
        } else if (key == "CapInh") {
            ok = cap(st.cap_inheritable);
        } else if (key == "CapPrm") {
            ok = cap(st.cap_permitted);
        } else if (key == "CapEff") {
            ok = cap(st.cap_effective);
        }
        if (!ok)
            error = Error{Errc::invalid_input, 0, fmt::format("status: bad {} line \"{}\"", key, line)};
    });
    if (error)
        return std::unexpected(*error);
    if (!have_tgid || !have_uid || !have_gid)
        return fail(Errc::invalid_input, "status: missing {}",
                    !have_tgid ? "Tgid" : !have_uid ? "Uid" : "Gid");
    return st;
}

std::string parse_cgroup_v2(std::string_view text)
{
    std::string path;
    for_each_line(text, [&](std::string_view line) {
        if (path.empty() && line.starts_with("0::"))
            path = line.substr(3);
    });
    return path;
}

std::string parse_cgroup_v1(std::string_view text, std::string_view controller)
{
    std::string path;
    for_each_line(text, [&](std::string_view line) {
        if (!path.empty())
            return;
        size_t c1 = line.find(':');
        size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
        if (c2 == std::string_view::npos)
            return;
        std::string_view ctrls = line.substr(c1 + 1, c2 - c1 - 1);
        for (size_t pos = 0; pos <= ctrls.size();) {
            size_t comma = ctrls.find(',', pos);
            std::string_view c = ctrls.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
            if (c == controller) {
                path = line.substr(c2 + 1);
                return;
            }
            if (comma == std::string_view::npos)
                break;
            pos = comma + 1;
        }
    });
    return path;
}

std::optional<std::string> cgroup_path_of(const std::filesystem::path& cgroup2_root, uint64_t id)
{
    Fd root(::open(cgroup2_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid())
        return std::nullopt;
    // A cgroup v2 id is its kernfs node id, which is also what a kernfs file handle holds.
    constexpr int kernfs_handle_type = 0xfe;
    alignas(file_handle) unsigned char buf[sizeof(file_handle) + sizeof id] = {};
    auto* fh = reinterpret_cast<file_handle*>(buf);
    fh->handle_bytes = sizeof id;
    fh->handle_type = kernfs_handle_type;
    std::memcpy(buf + sizeof(file_handle), &id, sizeof id);
    Fd dir(::open_by_handle_at(root.get(), fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid())
        return std::nullopt;
    std::error_code ec;
    auto target = std::filesystem::read_symlink(fmt::format("/proc/self/fd/{}", dir.get()), ec);
    if (ec)
        return std::nullopt;
    auto rel = target.lexically_relative(cgroup2_root);
    if (rel.empty() || rel.native().starts_with(".."))
        return std::nullopt;
    return rel == "." ? std::string("/") : "/" + rel.string();
}

ReadOptions host_read_options()
{
    ReadOptions o;
    struct statfs fs {};
    if (::statfs("/sys/fs/cgroup", &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
        o.cgroup_root = "/sys/fs/cgroup/unified";
    if (auto text = read_file(o.proc_root / "cgroups"))
        if (auto c = sdk::pick_cgroup1_controller(*text)) {
            o.cgroup1_controller = c->name;
            o.cgroup1_subsys = c->subsys_id;
        }
    return o;
}

std::optional<uint32_t> parse_ns_link(std::string_view link)
{
    size_t open = link.find(":[");
    if (open == std::string_view::npos || !link.ends_with(']'))
        return std::nullopt;
    uint32_t v = 0;
    if (!to_num(link.substr(open + 2, link.size() - open - 3), v))
        return std::nullopt;
    return v;
}

Cmdline split_cmdline(std::string_view raw)
{
    while (!raw.empty() && raw.back() == '\0')
        raw.remove_suffix(1);
    Cmdline c;
    size_t nul = raw.find('\0');
    if (nul == std::string_view::npos) {
        c.argv0 = std::string(raw);
        return c;
    }
    c.argv0 = std::string(raw.substr(0, nul));
    c.args = std::string(raw.substr(nul + 1));
    return c;
}

std::array<uint32_t, ns_slot_count> read_namespaces(const std::filesystem::path& proc_root, std::string_view pid)
{
    std::array<uint32_t, ns_slot_count> ns{};
    std::filesystem::path dir = proc_root / pid / "ns";
    for (size_t i = 0; i < ns_slot_count; ++i)
        if (auto link = read_link(dir / ns_names[i]))
            ns[i] = parse_ns_link(*link).value_or(0);
    return ns;
}

std::vector<uint32_t> list_pids(const std::filesystem::path& proc_root)
{
    std::vector<uint32_t> pids;
    DIR* d = ::opendir(proc_root.c_str());
    if (!d)
        return pids;
    while (dirent* de = ::readdir(d)) {
        uint32_t pid = 0;
        if (to_num(std::string_view(de->d_name), pid) && pid > 0)
            pids.push_back(pid);
    }
    ::closedir(d);
    std::sort(pids.begin(), pids.end());
    return pids;
}

namespace {

uint64_t ns_per_tick(const ReadOptions& opts)
{
    if (opts.ns_per_tick)
        return opts.ns_per_tick;
    long hz = ::sysconf(_SC_CLK_TCK);
    return hz > 0 ? 1'000'000'000ull / static_cast<uint64_t>(hz) : 10'000'000ull;
}

Result<Stat> read_stat(const std::filesystem::path& dir)
{
    auto text = read_file(dir / "stat");
    if (!text)
        return std::unexpected(text.error());
    auto st = parse_stat(*text);
    if (!st)
        return fail(Errc::invalid_input, "{}/stat: {}", dir.string(), st.error().message());
    return st;
}

} // namespace

Result<uint64_t> read_start_ktime(uint32_t pid, const ReadOptions& opts)
{
    auto st = read_stat(opts.proc_root / std::to_string(pid));
    if (!st)
        return std::unexpected(st.error());
    return st->starttime * ns_per_tick(opts);
}

Result<Snapshot> read_process(uint32_t pid, const ReadOptions& opts)
{
    std::string pid_s = std::to_string(pid);
    std::filesystem::path dir = opts.proc_root / pid_s;
    auto st = read_stat(dir);
    if (!st)
        return std::unexpected(st.error());
    auto status_text = read_file(dir / "status");
    if (!status_text)
        return std::unexpected(status_text.error());
    auto status = parse_status(*status_text);
    if (!status)
        return fail(Errc::invalid_input, "{}/status: {}", dir.string(), status.error().message());
    if (status->tgid != pid)
        return fail(Errc::not_found, "{} is a thread of {}", pid, status->tgid);

    Snapshot s;
    s.pid = pid;
    s.ppid = st->ppid;
    s.ktime = st->starttime * ns_per_tick(opts);
    s.kernel_thread = (st->flags & pf_kthread) != 0;
    s.uid = status->uid[0];
    s.euid = status->uid[1];
    s.gid = status->gid[0];
    s.egid = status->gid[1];
    s.cap_inheritable = status->cap_inheritable;
    s.cap_permitted = status->cap_permitted;
    s.cap_effective = status->cap_effective;
    s.nspid = status->nspid.empty() ? pid : status->nspid.back();
    if (s.kernel_thread) {
        s.binary = st->comm;
        return s;
    }

    // The rest is best effort: a process may exit or hide a file at any point, and what was
    // read so far is still worth an entry.
    Cmdline cmd;
    if (auto raw = read_file(dir / "cmdline"))
        cmd = split_cmdline(*raw);
    s.args = cmd.args;
    if (auto exe = read_link(dir / "exe")) {
        s.binary = *exe;
        if (s.binary.ends_with(" (deleted)"))
            s.binary.resize(s.binary.size() - 10);
    } else {
        s.binary = !cmd.argv0.empty() ? cmd.argv0 : st->comm;
    }
    if (auto cwd = read_link(dir / "cwd"))
        s.cwd = *cwd;
    else
        s.cwd_error = true;
    if (auto auid = read_file(dir / "loginuid")) {
        uint32_t v = 0;
        std::string_view a = *auid;
        while (!a.empty() && (a.back() == '\n' || a.back() == ' '))
            a.remove_suffix(1);
        if (to_num(a, v))
            s.auid = v;
    }
    s.ns = read_namespaces(opts.proc_root, pid_s);
    if (auto cg = read_file(dir / "cgroup")) {
        s.cgroup_path = parse_cgroup_v2(*cg);
        struct stat cst {};
        if (!s.cgroup_path.empty() &&
            ::stat((opts.cgroup_root.string() + s.cgroup_path).c_str(), &cst) == 0)
            s.cgroup_id = cst.st_ino; // a cgroup v2 directory's inode number is the cgroup id
        if (!opts.cgroup1_controller.empty()) {
            s.cgroup1_path = parse_cgroup_v1(*cg, opts.cgroup1_controller);
            std::string dir1 = (opts.cgroup1_root / opts.cgroup1_controller).string() + s.cgroup1_path;
            if (!s.cgroup1_path.empty() && ::stat(dir1.c_str(), &cst) == 0)
                s.cgroup1_id = cst.st_ino; // kernfs: the inode number is the cgroup's id
        }
    }
    // The stat file is gone if the process exited while we read the rest.
    if (::access((dir / "stat").c_str(), F_OK) != 0)
        return fail(Errc::not_found, "{} exited while being read", pid);
    return s;
}

} // namespace vigil::procfs
