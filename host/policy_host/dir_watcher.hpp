// policy_dir kept applied while vigild runs: an inotify watch on the directory, and after each
// burst of changes a rescan that adds new files' policies, replaces those whose file changed and
// deletes those whose file is gone. Content is compared, not names or times, so a Kubernetes
// ConfigMap update (the files are symlinks through "..data", swapped by one rename) is seen too.
#pragma once

#include "core/error.hpp"
#include "core/fd.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace vigil {

struct PolicyDirActions {
    // Parses a file's text into a policy and loads it; returns the policy's name.
    std::function<Result<std::string>(const std::filesystem::path& file, std::string_view text)> add;
    // Checks a file's text without loading it (so a broken change keeps the running version).
    std::function<Result<void>(const std::filesystem::path& file, std::string_view text)> check;
    std::function<Result<void>(const std::string& name)> remove;
};

class PolicyDirWatcher {
public:
    // Watches `dir`; nothing is applied before scan().
    [[nodiscard]] static Result<std::unique_ptr<PolicyDirWatcher>> make(boost::asio::io_context& io,
                                                                         std::filesystem::path dir,
                                                                         PolicyDirActions actions,
                                                                         std::chrono::milliseconds settle);
    // Brings the loaded policies in line with the directory now. Problems are logged with the
    // file's name; every other file is still applied.
    void scan();
    // Rescans done since the start (for tests and the log).
    uint64_t scans() const { return scans_; }

private:
    PolicyDirWatcher(boost::asio::io_context& io, std::filesystem::path dir, PolicyDirActions actions,
                     std::chrono::milliseconds settle, Fd inotify);
    void wait();
    void drain();

    struct Applied {
        std::string text;
        std::string name; // empty: the text did not load
    };

    std::filesystem::path dir_;
    PolicyDirActions actions_;
    std::chrono::milliseconds settle_;
    boost::asio::posix::stream_descriptor inotify_;
    boost::asio::steady_timer settle_timer_;
    std::map<std::filesystem::path, Applied> applied_; // by file
    uint64_t scans_ = 0;
};

} // namespace vigil
