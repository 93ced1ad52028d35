// Where formatted events go: stdout (compact or JSON lines) and a JSON file with size-based
// rotation. Writes are buffered; flush() is called by the pipeline when a batch ends.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace vigil {

class Sink {
public:
    virtual ~Sink() = default;
    virtual void write(std::string_view line) = 0; // one event, without newline
    virtual void flush() = 0;
    // False while the sink would discard what it is given (API subscribers: none connected);
    // the pipeline then does not format events for it.
    virtual bool active() const { return true; }
};

// Writes lines to a FILE* (stdout in vigild).
class StreamSink : public Sink {
public:
    explicit StreamSink(std::FILE* f) : f_(f) {}
    void write(std::string_view line) override;
    void flush() override;

private:
    std::FILE* f_;
};

// JSON lines into `path`; when it would grow past max_bytes it becomes path.1, path.1 becomes
// path.2, ... and at most max_files rotated files are kept.
class RotatingFileSink : public Sink {
public:
    [[nodiscard]] static Result<std::unique_ptr<RotatingFileSink>> make(std::string path, uint64_t max_bytes,
                                                                        uint32_t max_files);
    ~RotatingFileSink() override;
    void write(std::string_view line) override;
    void flush() override;
    uint64_t rotations() const { return rotations_; }
    uint64_t write_errors() const { return write_errors_; }

private:
    RotatingFileSink(std::string path, uint64_t max_bytes, uint32_t max_files)
        : path_(std::move(path)), max_bytes_(max_bytes), max_files_(max_files)
    {
    }
    Result<void> open();
    void rotate();

    std::string path_;
    uint64_t max_bytes_;
    uint32_t max_files_;
    int fd_ = -1;
    uint64_t size_ = 0;
    std::string buf_;
    uint64_t rotations_ = 0;
    uint64_t write_errors_ = 0;
};

} // namespace vigil
