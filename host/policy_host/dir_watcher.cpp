#include "policy_host/dir_watcher.hpp"

#include "core/log.hpp"
#include "core/trusted_file.hpp"

#include <sys/inotify.h>

#include <algorithm>
#include <set>
#include <vector>

namespace vigil {

namespace {

bool is_policy_file(const std::filesystem::path& p)
{
    return p.extension() == ".yaml" || p.extension() == ".yml";
}

} // namespace

Result<std::unique_ptr<PolicyDirWatcher>> PolicyDirWatcher::make(boost::asio::io_context& io,
                                                                 std::filesystem::path dir, PolicyDirActions actions,
                                                                 std::chrono::milliseconds settle)
{
    Fd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd.valid())
        return fail_errno(Errc::io, errno, "policy directory {}: inotify_init1", dir.string());
    // Creations, writes, renames and deletions of entries, and the directory itself going away.
    constexpr uint32_t mask = IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_ATTRIB |
                              IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
    if (::inotify_add_watch(fd.get(), dir.c_str(), mask) < 0)
        return fail_errno(Errc::io, errno, "policy directory {}: cannot watch it", dir.string());
    std::unique_ptr<PolicyDirWatcher> w(new PolicyDirWatcher(io, std::move(dir), std::move(actions), settle, std::move(fd)));
    w->wait();
    return w;
}

PolicyDirWatcher::PolicyDirWatcher(boost::asio::io_context& io, std::filesystem::path dir, PolicyDirActions actions,
                                   std::chrono::milliseconds settle, Fd inotify)
    : dir_(std::move(dir)), actions_(std::move(actions)), settle_(settle), inotify_(io, inotify.release()),
      settle_timer_(io)
{
}

void PolicyDirWatcher::wait()
{
    inotify_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec)
            return;
        drain();
        // An editor's save or a ConfigMap swap is several events: rescan once they settle.
        settle_timer_.expires_after(settle_);
        settle_timer_.async_wait([this](const boost::system::error_code& e) {
            if (!e)
                scan();
        });
        wait();
    });
}

void PolicyDirWatcher::drain()
{
    alignas(inotify_event) char buf[16 * 1024];
    while (::read(inotify_.native_handle(), buf, sizeof buf) > 0) {
    }
}

void PolicyDirWatcher::scan()
{
    ++scans_;
    auto logger = log::get("policy");
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& ent : std::filesystem::directory_iterator(dir_, ec))
        if (is_policy_file(ent.path()))
            files.push_back(ent.path());
    if (ec) {
        // A directory that is gone for now keeps what was loaded: a bad mount is not a delete.
        logger->error("policy directory {}: {}", dir_.string(), ec.message());
        return;
    }
    std::sort(files.begin(), files.end());

    std::set<std::filesystem::path> present(files.begin(), files.end());
    for (auto it = applied_.begin(); it != applied_.end();) {
        if (present.contains(it->first)) {
            ++it;
            continue;
        }
        if (!it->second.name.empty()) {
            if (auto r = actions_.remove(it->second.name); !r)
                logger->error("{}: deleting policy {}: {}", it->first.string(), it->second.name, r.error().message());
            else
                logger->info("{}: file deleted, policy {} deleted", it->first.string(), it->second.name);
        }
        it = applied_.erase(it);
    }

    for (const auto& file : files) {
        auto f = open_trusted_file_in_trusted_directory(file, "refusing to load the policy (chown root, chmod go-w)");
        Result<std::string> text = f ? read_all(*f, file) : std::unexpected(f.error());
        if (!text) {
            logger->error("{}", text.error().message());
            continue;
        }
        auto old = applied_.find(file);
        bool known = old != applied_.end();
        if (known && old->second.text == *text)
            continue;
        if (known && !old->second.name.empty()) {
            // A broken change keeps the running version.
            if (auto r = actions_.check(file, *text); !r) {
                logger->error("{} changed, keeping policy {} as it was: {}", file.string(), old->second.name,
                              r.error().message());
                old->second.text = *text;
                continue;
            }
            if (auto r = actions_.remove(old->second.name); !r)
                logger->error("{}: deleting policy {} to replace it: {}", file.string(), old->second.name,
                              r.error().message());
        }
        Applied& a = applied_[file];
        a.text = *text;
        auto name = actions_.add(file, *text);
        a.name = name ? *name : std::string();
        if (!name)
            logger->error("{}", name.error().message());
        else
            logger->info("{}: policy {} {}", file.string(), *name, known ? "replaced" : "loaded");
    }
}

} // namespace vigil
