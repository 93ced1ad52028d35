// The /proc parsers the bootstrap reads every running process with: stat, status, cgroup,
// namespace links and cmdline, and the container identity read from a cgroup path. Any process
// can put nearly anything in its comm and cmdline, and any root process can name cgroups.
#include "fuzz_util.hpp"

#include "container/cgroup_identity.hpp"
#include "process/procfs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace vigil;
    std::string_view text = fuzz::as_text(data, size);
    if (auto st = procfs::parse_stat(text)) {
        fuzz::check(st->comm.size() < size, "stat: comm longer than the file");
    } else {
        fuzz::check_error_message(st.error().message(), "parse_stat");
    }
    if (auto status = procfs::parse_status(text); !status)
        fuzz::check_error_message(status.error().message(), "parse_status");
    std::string cg = procfs::parse_cgroup_v2(text);
    fuzz::check(cg.size() <= size, "cgroup path longer than the file");
    fuzz::check(procfs::parse_cgroup_v1(text, "memory").size() <= size, "v1 cgroup path longer than the file");
    ContainerIdentity id = parse_container_cgroup(text);
    fuzz::check(id.id.size() <= size && id.pod_uid.size() <= size, "container identity longer than the path");
    fuzz::check(id.empty() == id.id.empty(), "a container without an id, or an id without a runtime");
    (void)procfs::parse_ns_link(text);
    procfs::Cmdline c = procfs::split_cmdline(text);
    fuzz::check(c.argv0.size() + c.args.size() <= size, "cmdline parts longer than the file");
    fuzz::check(c.argv0.find('\0') == std::string::npos, "argv0 holds a NUL");
    return 0;
}
