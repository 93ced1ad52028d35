// vigil status, plugin (and its old name sensors), process and policy: one request each, printed
// as text or JSON.
#include "cli.hpp"
#include "render.hpp"

#include <vigil/sdk/json.hpp>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

namespace vigil::cli {

namespace {

using api::JsonValue;

void print_json(const JsonValue& v) { std::printf("%s\n", v.dump().c_str()); }

std::string params_with(std::string_view key, std::string_view value)
{
    sdk::JsonWriter w;
    w.begin_object().member(key, value).end_object();
    return w.take();
}

std::optional<uint32_t> parse_pid(const std::string& s)
{
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 0x3fffffff)
        return std::nullopt;
    return v;
}

// Reads options until the words run out: only -o/--output here. Positional words go to `pos`.
bool read_output_and_positionals(Args& args, Output& out, std::initializer_list<Output> allowed,
                                 std::vector<std::string>& pos)
{
    while (!args.empty()) {
        std::string w = args.next();
        if (w == "-o" || w == "--output" || w.starts_with("--output=")) {
            if (!parse_output(args, w, out, allowed))
                return false;
        } else if (w.starts_with("-") && w.size() > 1) {
            usage_error(fmt::format("unknown option \"{}\"", w));
            return false;
        } else {
            pos.push_back(w);
        }
    }
    return true;
}

std::string process_line(const JsonValue& p)
{
    std::string args = text(p.get("arguments"));
    return args.empty() ? text(p.get("binary")) : fmt::format("{} {}", text(p.get("binary")), args);
}

// Where a process runs: "namespace/pod" in a pod, else the container's name or short id, "-"
// on the host.
std::string workload_label(const JsonValue& p)
{
    JsonValue pod = p.get("pod");
    if (!text(pod.get("name")).empty())
        return fmt::format("{}/{}", text(pod.get("namespace")), text(pod.get("name")));
    JsonValue c = p.get("container");
    if (!text(c.get("name")).empty())
        return text(c.get("name"));
    std::string id = text(c.get("id"));
    return id.empty() ? "-" : id.substr(0, 12);
}

// Sends one request and prints its result: as JSON with -o json, else with `print_text`.
int run(const Globals& g, const std::string& method, std::string_view params, Output out,
        const std::function<void(const JsonValue&)>& print_text)
{
    auto r = request(g, method, params);
    if (!r)
        return r.error();
    if (out == Output::json)
        print_json(*r);
    else
        print_text(*r);
    return exit_ok;
}

struct VerbArgs {
    std::string verb;
    Output out = Output::text;
    std::vector<std::string> pos;
};

// "<command> VERB [words] [-o json]"; the exit code when the words are wrong.
std::expected<VerbArgs, int> read_verb(Args& args, std::string_view command, std::string_view verbs)
{
    if (args.empty())
        return std::unexpected(usage_error(fmt::format("{} needs a verb: {}", command, verbs)));
    VerbArgs v;
    v.verb = args.next();
    if (!read_output_and_positionals(args, v.out, {Output::text, Output::json}, v.pos))
        return std::unexpected(exit_usage);
    return v;
}

} // namespace

int cmd_status(const Globals& g, Args& args)
{
    Output out = Output::text;
    std::vector<std::string> pos;
    if (!read_output_and_positionals(args, out, {Output::text, Output::json}, pos))
        return exit_usage;
    if (!pos.empty())
        return usage_error(fmt::format("status takes no argument (got \"{}\")", pos[0]));
    auto r = request(g, "status");
    if (!r)
        return r.error();
    if (out == Output::json) {
        print_json(*r);
        return exit_ok;
    }
    const JsonValue& s = *r;
    JsonValue abi = s.get("abi");
    std::printf("vigild %s (pid %s, up %s), plugin ABI %s.%s\n", text(s.get("version")).c_str(),
                text(s.get("pid")).c_str(),
                human_duration(s.get("uptime_seconds").integer(0, INT64_MAX).value_or(0)).c_str(),
                text(abi.get("major")).c_str(), text(abi.get("minor")).c_str());
    std::string have, missing;
    JsonValue features = s.get("features");
    for (size_t i = 0; i < features.size(); ++i) {
        JsonValue f = features.at(i);
        std::string& list = f.get("supported").is_true() ? have : missing;
        list += (list.empty() ? "" : " ") + text(f.get("name"));
    }
    std::printf("kernel features: %s%s%s%s\n", have.c_str(), missing.empty() ? "" : " (missing: ", missing.c_str(),
                missing.empty() ? "" : ")");
    JsonValue c = s.get("counters");
    std::string kinds;
    for (const auto& [k, v] : c.get("events_by_kind").members())
        kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", k, text(v));
    std::printf("events: %s%s; lost in the kernel: %s; decode errors: %s; dropped for subscribers: %s\n",
                text(c.get("events_total")).c_str(), kinds.empty() ? "" : fmt::format(" ({})", kinds).c_str(),
                text(c.get("events_lost")).c_str(), text(c.get("decode_errors")).c_str(),
                text(c.get("subscriber_dropped")).c_str());
    std::string bpf_errors;
    for (const auto& [k, v] : c.get("bpf_errors").members())
        if (text(v) != "0")
            bpf_errors += fmt::format("{}{} {}", bpf_errors.empty() ? "" : ", ", k, text(v));
    std::printf("BPF errors: %s\n", bpf_errors.empty() ? "none" : bpf_errors.c_str());
    if (JsonValue pc = s.get("process_cache"); pc.present())
        std::printf("process cache: %s of %s\n", text(pc.get("size")).c_str(), text(pc.get("capacity")).c_str());
    std::printf("policy engine: %s\n", s.get("policy_engine").is_true() ? "available" : "not available in this build");
    std::printf("subscribers: %zu\n", s.get("subscribers").size());
    JsonValue outputs = s.get("outputs");
    for (size_t i = 0; i < outputs.size(); ++i) {
        JsonValue o = outputs.at(i);
        std::string lost;
        for (const auto& [k, v] : o.get("lost").members())
            lost += fmt::format("{}{} {}", lost.empty() ? "" : ", ", k, text(v));
        std::printf("output %s: %s written, lost: %s; write errors: %s%s; rotations: %s (%s lines rotated away)%s\n",
                    text(o.get("name")).c_str(), text(o.get("written")).c_str(), lost.empty() ? "none" : lost.c_str(),
                    text(o.get("write_errors")).c_str(),
                    text(o.get("last_error")).empty() ? "" : fmt::format(" (last: {})", text(o.get("last_error"))).c_str(),
                    text(o.get("rotations")).c_str(), text(o.get("rotated_away")).c_str(),
                    o.get("closed").is_true() ? "; closed by its reader" : "");
    }
    Table t({"PLUGIN", "STATE", "LINKS", "RECORDS", "DECODE-ERRORS", "LAST-ERROR"});
    JsonValue plugins = s.get("plugins");
    for (size_t i = 0; i < plugins.size(); ++i) {
        JsonValue p = plugins.at(i);
        t.add({text(p.get("id")), text(p.get("state")), text(p.get("links")), text(p.get("records")),
               text(p.get("decode_errors")), text(p.get("last_error"))});
    }
    t.print();
    return exit_ok;
}

int cmd_plugins(const Globals& g, Args& args, std::string_view command)
{
    // `vigil sensors` is the old name of `vigil plugin`: it still works, on the API's old method
    // names, and speaks as it did ("sensor ID: running", {"sensors": [...]}).
    bool old = command == "sensors";
    std::string cmd(command), api = old ? "sensors" : "plugins", noun = old ? "sensor" : "plugin";
    auto a = read_verb(args, cmd,
                       old ? "list, enable ID or disable ID" : "list, enable ID, disable ID or check FILE.so");
    if (!a)
        return a.error();
    if (a->verb == "list") {
        if (!a->pos.empty())
            return usage_error(cmd + " list takes no argument");
        return run(g, api + ".list", "{}", a->out, [api](const JsonValue& r) {
            Table t({"ID", "NAME", "VERSION", "STATE", "LINKS", "EVENTS", "LAST-ERROR"});
            JsonValue list = r.get(api);
            for (size_t i = 0; i < list.size(); ++i) {
                JsonValue p = list.at(i);
                std::string kinds;
                JsonValue k = p.get("event_kinds");
                for (size_t j = 0; j < k.size(); ++j)
                    kinds += (kinds.empty() ? "" : ",") + text(k.at(j));
                t.add({text(p.get("id")), text(p.get("name")), text(p.get("version")), text(p.get("state")),
                       text(p.get("links")), kinds.empty() ? "-" : kinds, text(p.get("last_error"))});
            }
            t.print();
        });
    }
    if (a->verb == "enable" || a->verb == "disable") {
        if (a->pos.size() != 1)
            return usage_error(fmt::format("usage: vigil {} {} ID", cmd, a->verb));
        return run(g, api + "." + a->verb, params_with("id", a->pos[0]), a->out, [noun](const JsonValue& r) {
            std::printf("%s %s: %s\n", noun.c_str(), text(r.get("id")).c_str(), text(r.get("state")).c_str());
        });
    }
    return usage_error(fmt::format("unknown {} verb \"{}\" (list, enable, disable{})", cmd, a->verb,
                                   old ? "" : ", check"));
}

int cmd_process(const Globals& g, Args& args)
{
    auto a = read_verb(args, "process", "list, get PID or tree [PID]");
    if (!a)
        return a.error();
    if (a->verb == "list") {
        if (!a->pos.empty())
            return usage_error("process list takes no argument");
        return run(g, "process.list", "{}", a->out, [](const JsonValue& r) {
            Table t({"PID", "PPID", "UID", "START", "CONTAINER", "COMMAND"});
            JsonValue list = r.get("processes");
            for (size_t i = 0; i < list.size(); ++i) {
                JsonValue p = list.at(i);
                t.add({text(p.get("pid")), text(p.get("ppid")), text(p.get("uid")), text(p.get("start_time")),
                       workload_label(p), process_line(p)});
            }
            t.print();
            if (r.get("truncated").is_true())
                error(fmt::format("showing {} of {} processes", list.size(), text(r.get("total"))));
        });
    }
    if (a->verb != "get" && a->verb != "tree")
        return usage_error(fmt::format("unknown process verb \"{}\" (list, get, tree)", a->verb));
    bool get = a->verb == "get";
    if (get ? a->pos.size() != 1 : a->pos.size() > 1)
        return usage_error(get ? "usage: vigil process get PID" : "usage: vigil process tree [PID]");
    std::string params = "{}";
    if (!a->pos.empty()) {
        auto pid = parse_pid(a->pos[0]);
        if (!pid)
            return usage_error(fmt::format("\"{}\" is not a process id", a->pos[0]));
        params = fmt::format("{{\"pid\":{}}}", *pid);
    }
    if (get)
        return run(g, "process.get", params, a->out, [](const JsonValue& r) {
            for (const auto& [k, v] : r.get("process").members())
                std::printf("%-15s %s\n", (k + ":").c_str(), text(v).c_str());
        });
    return run(g, "process.tree", params, a->out, [](const JsonValue& r) {
        JsonValue tree = r.get("tree");
        for (size_t i = 0; i < tree.size(); ++i) {
            JsonValue n = tree.at(i);
            int64_t depth = n.get("depth").integer(0, 1 << 20).value_or(0);
            JsonValue p = n.get("process");
            std::printf("%s%s %s\n", std::string(static_cast<size_t>(depth) * 2, ' ').c_str(),
                        text(p.get("pid")).c_str(), process_line(p).c_str());
        }
    });
}

int cmd_policy(const Globals& g, Args& args)
{
    if (args.empty())
        return usage_error("policy needs a verb: add, delete, list, enable, disable or set-mode");
    std::string verb = args.next();
    Output out = Output::text;
    std::optional<std::string> mode;
    std::vector<std::string> pos;
    while (!args.empty()) {
        std::string w = args.next();
        if (w == "-o" || w == "--output" || w.starts_with("--output=")) {
            if (!parse_output(args, w, out, {Output::text, Output::json}))
                return exit_usage;
        } else if (verb == "add" && (w == "--mode" || w.starts_with("--mode="))) {
            auto v = args.value_of("--mode", w.starts_with("--mode=") ? std::optional(w.substr(7)) : std::nullopt);
            if (!v)
                return exit_usage;
            mode = *v;
        } else if (w.starts_with("-") && w.size() > 1) {
            return usage_error(fmt::format("unknown option \"{}\" for policy {}", w, verb));
        } else {
            pos.push_back(w);
        }
    }
    if (mode && *mode != "enforce" && *mode != "monitor")
        return usage_error(fmt::format("--mode must be enforce or monitor, not \"{}\"", *mode));

    sdk::JsonWriter w;
    std::string method;
    if (verb == "add") {
        if (pos.size() != 1)
            return usage_error("usage: vigil policy add FILE [--mode enforce|monitor]");
        std::ifstream in(pos[0], std::ios::binary);
        if (!in)
            return usage_error(fmt::format("cannot read {}: {}", pos[0], std::strerror(errno)));
        std::ostringstream ss;
        ss << in.rdbuf();
        method = "policy.add";
        w.begin_object().member("yaml", ss.str()).member("file", pos[0]);
        if (mode)
            w.member("mode", *mode);
        w.end_object();
        // The request envelope adds well under 100 bytes to the params.
        if (w.str().size() + 100 > api::max_request_frame)
            return usage_error(fmt::format("{} is {} bytes; a policy must fit in one {}-byte request", pos[0],
                                           ss.str().size(), api::max_request_frame));
    } else if (verb == "list") {
        if (!pos.empty())
            return usage_error("policy list takes no argument");
        method = "policy.list";
        w.begin_object().end_object();
    } else if (verb == "delete" || verb == "enable" || verb == "disable") {
        if (pos.size() != 1)
            return usage_error(fmt::format("usage: vigil policy {} NAME", verb));
        method = "policy." + verb;
        w.begin_object().member("name", pos[0]).end_object();
    } else if (verb == "set-mode") {
        if (pos.size() != 2)
            return usage_error("usage: vigil policy set-mode NAME enforce|monitor");
        if (pos[1] != "enforce" && pos[1] != "monitor")
            return usage_error(fmt::format("mode must be enforce or monitor, not \"{}\"", pos[1]));
        method = "policy.set_mode";
        w.begin_object().member("name", pos[0]).member("mode", pos[1]).end_object();
    } else {
        return usage_error(fmt::format("unknown policy verb \"{}\" (add, delete, list, enable, disable, set-mode)", verb));
    }

    return run(g, method, w.str(), out, [&verb](const JsonValue& r) {
        if (verb != "list") {
            std::printf("policy %s: %s done\n", text(r.get("name")).c_str(), verb.c_str());
            return;
        }
        Table t({"NAME", "MODE", "ENABLED", "STATE", "LAST-ERROR"});
        JsonValue list = r.get("policies");
        for (size_t i = 0; i < list.size(); ++i) {
            JsonValue p = list.at(i);
            t.add({text(p.get("name")), text(p.get("mode")), text(p.get("enabled")), text(p.get("state")),
                   text(p.get("last_error"))});
        }
        t.print();
    });
}

} // namespace vigil::cli
