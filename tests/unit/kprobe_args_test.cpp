// The kprobe plugin's argument planning (plugins/kprobe/arg_types.hpp): how its hook object is
// told to read each policy argument type, by syscall or kernel function, and the refusals, with
// their messages. No kernel needed: plan_arg only fills a struct kp_arg.
#include "arg_types.hpp"

#include <catch2/catch.hpp>

#include <string>

using vigil::kprobe::ArgContext;
using vigil::kprobe::ArgSpec;
using vigil::kprobe::plan_arg;
using vigil::kprobe::plan_return_arg;

namespace {

ArgSpec spec(std::string type, uint32_t index = 0)
{
    ArgSpec a;
    a.type = std::move(type);
    a.index = index;
    return a;
}

} // namespace

TEST_CASE("integer arguments are read at their size and sign", "[unit][kprobe]")
{
    for (auto ctx : {ArgContext::syscall, ArgContext::kernel}) {
        auto i = plan_arg(spec("int", 2), ctx);
        REQUIRE(i);
        CHECK(i->src == 2);
        CHECK(i->read == KP_READ_INT);
        CHECK(i->size == 4);
        CHECK(i->is_signed);
        CHECK(i->enc == VHOOK_ENC_S64);

        auto u = plan_arg(spec("uint16"), ctx);
        REQUIRE(u);
        CHECK(u->size == 2);
        CHECK_FALSE(u->is_signed);
        CHECK(u->enc == VHOOK_ENC_U64);

        auto s = plan_arg(spec("syscall64"), ctx);
        REQUIRE(s);
        CHECK(s->size == 8);
        CHECK(s->enc == VHOOK_ENC_U64);
    }
}

TEST_CASE("strings and buffers come from user memory in syscalls, kernel memory elsewhere", "[unit][kprobe]")
{
    CHECK(plan_arg(spec("string"), ArgContext::syscall)->read == KP_READ_USER_STR);
    CHECK(plan_arg(spec("string"), ArgContext::kernel)->read == KP_READ_KERNEL_STR);
    CHECK(plan_arg(spec("string"), ArgContext::kernel)->enc == VHOOK_ENC_STRING);
    CHECK(plan_arg(spec("filename"), ArgContext::syscall)->read == KP_READ_USER_STR);
    CHECK(plan_arg(spec("filename"), ArgContext::kernel)->read == KP_READ_FILENAME);
    CHECK(plan_arg(spec("sockaddr"), ArgContext::syscall)->read == KP_READ_USER_SOCKADDR);
    CHECK(plan_arg(spec("sockaddr"), ArgContext::kernel)->read == KP_READ_SOCKADDR);

    ArgSpec buf = spec("char_buf", 1);
    buf.size_arg_index = 3;
    auto u = plan_arg(buf, ArgContext::syscall);
    REQUIRE(u);
    CHECK(u->read == KP_READ_USER_BUF);
    CHECK(u->enc == VHOOK_ENC_BYTES);
    CHECK(u->size_src == 3);
    CHECK(plan_arg(buf, ArgContext::kernel)->read == KP_READ_KERNEL_BUF);

    buf.size_arg_index = KP_MAX_RAW_ARGS + 1;
    auto past = plan_arg(buf, ArgContext::syscall);
    REQUIRE_FALSE(past);
    CHECK(past.error() == "sizeArgIndex 7 is past the 6 arguments a hook can read");
}

TEST_CASE("an fd is read in both contexts; kernel objects only from kernel functions", "[unit][kprobe]")
{
    for (auto ctx : {ArgContext::syscall, ArgContext::kernel}) {
        auto fd = plan_arg(spec("fd"), ctx);
        REQUIRE(fd);
        CHECK(fd->read == KP_READ_FD);
        CHECK(fd->enc == VHOOK_ENC_STRING);
    }
    const std::pair<const char*, uint8_t> kernel_objects[] = {
        {"file", KP_READ_FILE}, {"path", KP_READ_PATH},     {"dentry", KP_READ_DENTRY}, {"cred", KP_READ_CRED},
        {"sock", KP_READ_SOCK}, {"socket", KP_READ_SOCKET}, {"skb", KP_READ_SKB},
    };
    for (const auto& [type, read] : kernel_objects) {
        INFO(type);
        auto k = plan_arg(spec(type), ArgContext::kernel);
        REQUIRE(k);
        CHECK(k->read == read);
        auto s = plan_arg(spec(type), ArgContext::syscall);
        REQUIRE_FALSE(s);
        CHECK(s.error() == std::string("type ") + type +
                               " is a kernel object; a syscall argument is an integer or a user pointer (use fd, "
                               "string, filename or char_buf)");
    }
}

TEST_CASE("what the kprobe plugin cannot read is refused with the reason", "[unit][kprobe]")
{
    auto far = plan_arg(spec("int", KP_MAX_RAW_ARGS), ArgContext::kernel);
    REQUIRE_FALSE(far);
    CHECK(far.error() == "index 6 is past the 6 arguments a hook can read");

    ArgSpec r = spec("string");
    r.resolve = "f_path.dentry";
    auto resolve = plan_arg(r, ArgContext::kernel);
    REQUIRE_FALSE(resolve);
    CHECK(resolve.error() == "resolve (f_path.dentry) is not supported by the kprobe plugin");

    ArgSpec c = spec("char_buf");
    c.return_copy = true;
    auto copy = plan_arg(c, ArgContext::syscall);
    REQUIRE_FALSE(copy);
    CHECK(copy.error().starts_with("returnCopy is not supported by the kprobe plugin yet"));

    auto unknown = plan_arg(spec("bpf_map"), ArgContext::kernel);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().starts_with("argument type bpf_map is not supported by the kprobe plugin (supported: "));
}

TEST_CASE("a return value is read as an integer only", "[unit][kprobe]")
{
    auto i = plan_return_arg("int");
    REQUIRE(i);
    CHECK(i->read == KP_READ_INT);
    CHECK(i->size == 4);
    CHECK(i->is_signed);
    auto s = plan_return_arg("string");
    REQUIRE_FALSE(s);
    CHECK(s.error() == "returnArg type string is not supported: the kprobe plugin reads return values as integers");
}
