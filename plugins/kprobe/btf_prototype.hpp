// A kernel function's prototype from the kernel's BTF, to hold a policy's args to it: a policy
// written for another kernel's signature of a function must be refused, not read garbage (a
// kernel pointer read as a buffer, a struct read as a file).
#pragma once

#include <optional>
#include <string>
#include <vector>

struct btf;

namespace vigil::kprobe {

struct BtfParam {
    std::string name;
    std::string type;        // as C writes it: "struct kiocb *", "size_t", "int"
    bool pointer = false;    // after typedefs and qualifiers
    std::string pointee;     // "struct file", "union bpf_attr" for a pointer to one; else empty
};

struct BtfPrototype {
    std::string function;
    std::vector<BtfParam> params;
    std::string text() const; // "tty_write(struct kiocb *iocb, struct iov_iter *from)"
};

// The prototype of `function` in `b`, or nullopt when it is not a BTF function.
std::optional<BtfPrototype> btf_prototype(const btf* b, const std::string& function);

// Why an argument of policy type `type` cannot be read from `param`, or nullopt when it can.
// Only clear mismatches count: a typed object (file, cred, sock, ...) must be a pointer to that
// struct; a string or buffer must be a pointer; a 64-bit integer may be anything.
std::optional<std::string> arg_mismatch(const std::string& type, const BtfParam& param);

} // namespace vigil::kprobe
