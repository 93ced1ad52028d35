#include "export/sink.hpp"

#include "core/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>

namespace vigil {

void StreamSink::write(std::string_view line)
{
    std::fwrite(line.data(), 1, line.size(), f_);
    std::fputc('\n', f_);
}

void StreamSink::flush() { std::fflush(f_); }

Result<std::unique_ptr<RotatingFileSink>> RotatingFileSink::make(std::string path, uint64_t max_bytes,
                                                                 uint32_t max_files)
{
    std::unique_ptr<RotatingFileSink> s(new RotatingFileSink(std::move(path), max_bytes, max_files));
    if (auto r = s->open(); !r)
        return std::unexpected(r.error());
    return s;
}

RotatingFileSink::~RotatingFileSink()
{
    flush();
    if (fd_ >= 0)
        ::close(fd_);
}

Result<void> RotatingFileSink::open()
{
    std::error_code ec;
    auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty())
        std::filesystem::create_directories(parent, ec);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0)
        return fail_errno(Errc::io, errno, "export file {}", path_);
    struct stat st {};
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    return {};
}

void RotatingFileSink::rotate()
{
    flush();
    ::close(fd_);
    fd_ = -1;
    std::error_code ec;
    std::filesystem::remove(path_ + "." + std::to_string(max_files_), ec);
    for (uint32_t i = max_files_; i > 1; --i)
        std::filesystem::rename(path_ + "." + std::to_string(i - 1), path_ + "." + std::to_string(i), ec);
    std::filesystem::rename(path_, path_ + ".1", ec);
    rotations_++;
    if (auto r = open(); !r) {
        write_errors_++;
        log::get("export")->error("{}", r.error().message());
    }
}

void RotatingFileSink::write(std::string_view line)
{
    if (size_ + buf_.size() + line.size() + 1 > max_bytes_ && size_ + buf_.size() > 0)
        rotate();
    buf_.append(line);
    buf_ += '\n';
    if (buf_.size() >= (1u << 16))
        flush();
}

void RotatingFileSink::flush()
{
    if (buf_.empty())
        return;
    if (fd_ < 0) {
        write_errors_++;
        buf_.clear();
        return;
    }
    size_t off = 0;
    while (off < buf_.size()) {
        ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            write_errors_++;
            log::get("export")->error("writing {}: {}", path_, std::strerror(errno));
            break;
        }
        off += static_cast<size_t>(n);
    }
    size_ += off;
    buf_.clear();
}

} // namespace vigil
