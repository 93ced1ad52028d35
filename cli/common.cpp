#include "cli.hpp"

#include "core/printable.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace vigil::cli {

std::optional<std::string> Args::value_of(const std::string& opt, const std::optional<std::string>& inline_value)
{
    if (inline_value)
        return inline_value;
    if (empty()) {
        error(fmt::format("{} needs a value", opt));
        return std::nullopt;
    }
    return next();
}

// Messages can quote input (a policy's text holding a NUL or a terminal escape): printed whole
// and escaped, never cut at a NUL; their line breaks (one policy error per line) are kept.
void error(std::string_view msg)
{
    std::string out = "vigil: ";
    for (size_t start = 0;;) {
        size_t nl = msg.find('\n', start);
        append_printable(out, msg.substr(start, nl == std::string_view::npos ? nl : nl - start));
        out += '\n';
        if (nl == std::string_view::npos)
            break;
        start = nl + 1;
    }
    std::fwrite(out.data(), 1, out.size(), stderr);
}

int usage_error(std::string_view msg)
{
    error(msg);
    std::fprintf(stderr, "Try 'vigil help'.\n");
    return exit_usage;
}

void explain_connect_error(const Error& e, const std::string& socket_path)
{
    switch (e.sys_errno) {
    case ENOENT:
        error(fmt::format("vigild is not running: no socket at {} (use --socket PATH for another one)", socket_path));
        break;
    case ECONNREFUSED:
        error(fmt::format("vigild is not running: nothing listens on {}", socket_path));
        break;
    case EACCES:
    case EPERM:
        error(fmt::format("permission denied on {}: the vigil API is for root", socket_path));
        break;
    default:
        error(e.message());
    }
}

std::optional<api::Client> connect(const Globals& g)
{
    auto c = api::Client::connect(g.socket_path);
    if (!c) {
        explain_connect_error(c.error(), g.socket_path);
        return std::nullopt;
    }
    return std::move(*c);
}

std::expected<api::JsonValue, int> request(const Globals& g, std::string_view method, std::string_view params)
{
    auto c = connect(g);
    if (!c)
        return std::unexpected(exit_no_agent);
    auto r = c->call(method, params);
    if (!r) {
        if (api::is_timeout(r.error())) {
            error(fmt::format("vigild did not answer {} in time", method));
            return std::unexpected(exit_no_agent);
        }
        error(r.error().message());
        return std::unexpected(r.error().code == Errc::io ? exit_no_agent : exit_agent_error);
    }
    if (r->kind == api::Reply::Kind::error) {
        error(fmt::format("{} [{}]", r->message, r->code));
        return std::unexpected(exit_agent_error);
    }
    return std::move(r->value);
}

bool parse_output(Args& args, const std::string& word, Output& out, std::initializer_list<Output> allowed)
{
    std::string name = word;
    std::optional<std::string> inline_value;
    if (auto eq = word.find('='); eq != std::string::npos) {
        name = word.substr(0, eq);
        inline_value = word.substr(eq + 1);
    }
    auto v = args.value_of(name, inline_value);
    if (!v)
        return false;
    std::string names;
    for (Output o : allowed) {
        const char* n = o == Output::json ? "json" : o == Output::compact ? "compact" : "text";
        if (*v == n) {
            out = o;
            return true;
        }
        names += names.empty() ? n : fmt::format(" or {}", n);
    }
    error(fmt::format("{} must be {}, not \"{}\"", name, names, *v));
    return false;
}

bool use_color()
{
    static const bool on = ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
    return on;
}

} // namespace vigil::cli
