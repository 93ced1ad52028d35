// Files vigild runs on (its configuration, plugin libraries): whoever can write one controls the
// agent. Such a file must be a regular file owned by root (or by the user vigild runs as) and
// not writable by group or others. The checks, the read and the SHA-256 all go through one open
// file description, so what was checked is what is read. Files vigild writes (event exports) are
// held to the same owner rule, opened without following symlinks, in a directory others cannot
// swap files in.
#pragma once

#include "core/error.hpp"
#include "core/fd.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace vigil {

struct TrustedFile {
    Fd fd;
    struct stat st {};
};

// Opens `path` and checks owner and mode; `refusal` ends the message ("refusing to load it").
[[nodiscard]] Result<TrustedFile> open_trusted_file(const std::filesystem::path& path, std::string_view refusal);

// The owner and mode rule on an already opened file (or directory, with `dir`: writable by group
// or others only with the sticky bit).
[[nodiscard]] Result<void> check_trusted_owner(const struct stat& st, const std::filesystem::path& path,
                                               std::string_view refusal, bool dir = false);

// A directory vigild creates files in: opened with O_NOFOLLOW on its last component, owned by root
// (or vigild's user), not writable by group or others unless sticky.
[[nodiscard]] Result<Fd> open_trusted_dir(const std::filesystem::path& dir, std::string_view refusal);

struct OutputFileMode {
    mode_t mode = 0600; // at most 0640: never writable by group, never readable by others
    gid_t gid = static_cast<gid_t>(-1); // -1: leave the group as created
};

// Opens (creating it if missing) `name` in `dir_fd` for appending: a symlink, a file not owned by
// root (or vigild's user), one writable by group or others, or one with other hard links is
// refused; mode and group are then set to `mode`. `dir` names the directory in messages.
[[nodiscard]] Result<TrustedFile> open_trusted_output(int dir_fd, const std::filesystem::path& dir,
                                                      const std::string& name, OutputFileMode mode);
// Checks that `dir` is a directory owned by root (or the user running vigild) that group and
// others cannot write to, unless it is sticky (as /tmp): otherwise another user could replace a
// trusted file in it.
[[nodiscard]] Result<void> check_trusted_directory(const std::filesystem::path& dir, std::string_view refusal);

// open_trusted_file, after check_trusted_directory on the file's directory.
[[nodiscard]] Result<TrustedFile> open_trusted_file_in_trusted_directory(const std::filesystem::path& path,
                                                                         std::string_view refusal);

// The whole content, read from the start.
[[nodiscard]] Result<std::string> read_all(const TrustedFile& f, const std::filesystem::path& path);

// SHA-256 of the whole content, as 64 lower-case hex digits.
[[nodiscard]] Result<std::string> sha256_hex(const TrustedFile& f, const std::filesystem::path& path);

} // namespace vigil
