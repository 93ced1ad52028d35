#include "core/trusted_file.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <memory>

namespace vigil {

namespace {

// Calls f(chunk) for the file's content from offset 0, without moving the file offset.
template <class F>
Result<void> for_each_chunk(const TrustedFile& f, const std::filesystem::path& path, F&& on_chunk)
{
    char buf[1 << 16];
    off_t off = 0;
    for (;;) {
        ssize_t n = ::pread(f.fd.get(), buf, sizeof buf, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno(Errc::io, errno, "{}: read", path.string());
        }
        if (n == 0)
            return {};
        on_chunk(std::string_view(buf, static_cast<size_t>(n)));
        off += n;
    }
}

// Fills f.st and checks that f is a regular file that passes check_trusted_owner.
Result<void> stat_regular_trusted(TrustedFile& f, const std::filesystem::path& path, std::string_view refusal)
{
    if (::fstat(f.fd.get(), &f.st) != 0)
        return fail_errno(Errc::io, errno, "{}: fstat", path.string());
    if (!S_ISREG(f.st.st_mode))
        return fail(Errc::invalid_input, "{}: not a regular file; {}", path.string(), refusal);
    return check_trusted_owner(f.st, path, refusal);
}

} // namespace

Result<TrustedFile> open_trusted_file(const std::filesystem::path& path, std::string_view refusal)
{
    TrustedFile f;
    f.fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!f.fd.valid())
        return fail_errno(Errc::io, errno, "{}", path.string());
    if (auto r = stat_regular_trusted(f, path, refusal); !r)
        return std::unexpected(r.error());
    return f;
}

Result<void> check_trusted_owner(const struct stat& st, const std::filesystem::path& path, std::string_view refusal,
                                 bool dir)
{
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        return fail(Errc::invalid_input, "{}: owned by uid {}, not by root or the user running vigild; {}",
                    path.string(), st.st_uid, refusal);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(dir && (st.st_mode & S_ISVTX)))
        return fail(Errc::invalid_input, "{}: writable by group or others{} (mode {:o}); {}", path.string(),
                    dir ? " without the sticky bit" : "", st.st_mode & 07777, refusal);
    return {};
}

Result<Fd> open_trusted_dir(const std::filesystem::path& dir, std::string_view refusal)
{
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
        int err = errno;
        if (err == ELOOP || err == ENOTDIR)
            return fail(Errc::invalid_input, "{}: not a directory (or a symbolic link); {}", dir.string(), refusal);
        return fail_errno(Errc::io, err, "{}", dir.string());
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail_errno(Errc::io, errno, "{}: fstat", dir.string());
    if (auto r = check_trusted_owner(st, dir, refusal, true); !r)
        return std::unexpected(r.error());
    return fd;
}

Result<TrustedFile> open_trusted_output(int dir_fd, const std::filesystem::path& dir, const std::string& name,
                                        OutputFileMode mode)
{
    auto path = dir / name;
    constexpr std::string_view refusal = "refusing to write events into it";
    TrustedFile f;
    f.fd.reset(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, mode.mode));
    if (!f.fd.valid()) {
        int err = errno;
        if (err == ELOOP)
            return fail(Errc::invalid_input, "{}: a symbolic link; {}", path.string(), refusal);
        return fail_errno(Errc::io, err, "{}", path.string());
    }
    if (auto r = stat_regular_trusted(f, path, refusal); !r)
        return std::unexpected(r.error());
    if (f.st.st_nlink > 1)
        return fail(Errc::invalid_input, "{}: has {} hard links; {}", path.string(), f.st.st_nlink, refusal);
    if ((f.st.st_mode & 07777) != mode.mode && ::fchmod(f.fd.get(), mode.mode) != 0)
        return fail_errno(Errc::io, errno, "{}: chmod {:o}", path.string(), mode.mode);
    if (mode.gid != static_cast<gid_t>(-1) && f.st.st_gid != mode.gid && ::fchown(f.fd.get(), -1, mode.gid) != 0)
        return fail_errno(Errc::io, errno, "{}: chgrp {}", path.string(), mode.gid);
    return f;
}

Result<void> check_trusted_directory(const std::filesystem::path& dir, std::string_view refusal)
{
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0)
        return fail_errno(Errc::io, errno, "{}", dir.string());
    if (!S_ISDIR(st.st_mode))
        return fail(Errc::invalid_input, "{}: not a directory; {}", dir.string(), refusal);
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        return fail(Errc::invalid_input, "{}: the directory is owned by uid {}, not by root or the user running vigild; {}",
                    dir.string(), st.st_uid, refusal);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        return fail(Errc::invalid_input, "{}: the directory is writable by group or others (mode {:o}); {}",
                    dir.string(), st.st_mode & 07777, refusal);
    return {};
}

Result<TrustedFile> open_trusted_file_in_trusted_directory(const std::filesystem::path& path, std::string_view refusal)
{
    std::filesystem::path dir = path.parent_path();
    if (dir.empty())
        dir = ".";
    if (auto r = check_trusted_directory(dir, refusal); !r)
        return fail(r.error().code, "{} is in {}", path.string(), r.error().message());
    return open_trusted_file(path, refusal);
}

Result<std::string> read_all(const TrustedFile& f, const std::filesystem::path& path)
{
    std::string out;
    out.reserve(static_cast<size_t>(f.st.st_size));
    if (auto r = for_each_chunk(f, path, [&](std::string_view c) { out += c; }); !r)
        return std::unexpected(r.error());
    return out;
}

Result<std::string> sha256_hex(const TrustedFile& f, const std::filesystem::path& path)
{
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        return fail(Errc::internal, "{}: cannot set up SHA-256", path.string());
    bool ok = true;
    auto r = for_each_chunk(f, path, [&](std::string_view c) {
        ok = ok && EVP_DigestUpdate(ctx.get(), c.data(), c.size()) == 1;
    });
    if (!r)
        return std::unexpected(r.error());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ok || EVP_DigestFinal_ex(ctx.get(), md, &len) != 1)
        return fail(Errc::internal, "{}: SHA-256 failed", path.string());
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

} // namespace vigil
