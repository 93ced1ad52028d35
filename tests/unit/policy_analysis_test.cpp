// analyse_policy (routing: hook kinds, enforcement, features) and hook_to_json (what a plugin
// receives).
#include "policy_test_util.hpp"

using namespace vigil;
using namespace vigil::policy;
using namespace vigil::policy::test;

TEST_CASE("hook kinds are listed once, sorted", "[policy][analysis]")
{
    PolicyInfo info = analyse_policy(fixture_ok("lists_options.yaml"));
    CHECK(info.hook_kinds == std::vector<HookKind>{HookKind::kprobes, HookKind::tracepoints});
    REQUIRE(info.hooks.size() == 3);
    CHECK(info.hooks[0].kind == HookKind::kprobes);
    CHECK(info.hooks[0].index == 0);
    CHECK(info.hooks[0].target == "list:dups");
    CHECK(info.hooks[1].index == 1);
    CHECK(info.hooks[2].kind == HookKind::tracepoints);
    CHECK(info.hooks[2].target == "raw_syscalls/sys_enter");
    CHECK(info.requested_mode == PolicyMode::monitor);

    PolicyInfo up = analyse_policy(fixture_ok("uprobe_full.yaml"));
    CHECK(up.hook_kinds == std::vector<HookKind>{HookKind::uprobes});
    CHECK(up.hooks.at(1).target == "/usr/lib/x86_64-linux-gnu/libc.so.6:malloc,free");

    PolicyInfo lsm = analyse_policy(fixture_ok("lsmhook_full.yaml"));
    CHECK(lsm.hook_kinds == std::vector<HookKind>{HookKind::lsmhooks});
    CHECK(lsm.hooks.at(0).target == "file_open");
}

TEST_CASE("enforcement actions decide monitor-only", "[policy][analysis]")
{
    SECTION("Signal in a tracepoint")
    {
        PolicyInfo info = analyse_policy(fixture_ok("lists_options.yaml"));
        CHECK(info.has_enforcement);
        CHECK_FALSE(info.monitor_only());
        CHECK_FALSE(info.hooks[0].has_enforcement);
        CHECK(info.hooks[2].has_enforcement);
    }
    SECTION("Override and Sigkill in lsmhooks")
    {
        PolicyInfo info = analyse_policy(fixture_ok("lsmhook_full.yaml"));
        CHECK(info.has_enforcement);
        CHECK(info.hooks[0].has_enforcement);
        CHECK(info.hooks[1].has_enforcement);
        CHECK(info.requested_mode == PolicyMode::enforce);
    }
    SECTION("Post, NoPost, GetUrl, DnsLookup only")
    {
        PolicyInfo info = analyse_policy(fixture_ok("selectors_all.yaml"));
        CHECK_FALSE(info.has_enforcement);
        CHECK(info.monitor_only());
    }
    SECTION("no selectors at all")
    {
        PolicyInfo info = analyse_policy(parse_ok(kprobe_policy("")));
        CHECK(info.monitor_only());
        CHECK(info.hooks.at(0).features.empty());
    }
}

TEST_CASE("features name what a plugin must support", "[policy][analysis]")
{
    PolicyInfo info = analyse_policy(fixture_ok("selectors_all.yaml"));
    CHECK(info.hooks.at(0).features ==
          std::vector<std::string>{
              "action:DnsLookup",
              "action:GetUrl",
              "action:NoPost",
              "action:Post",
              "action:Post.rateLimit",
              "arg:uint32",
              "operator:Equal",
              "operator:matchBinaries.In",
              "operator:matchBinaries.Prefix",
              "selector:matchArgs",
              "selector:matchBinaries",
              "selector:matchBinaries.followChildren",
              "selector:matchCapabilities",
              "selector:matchCapabilityChanges",
              "selector:matchNamespaceChanges",
              "selector:matchNamespaces",
              "selector:matchPIDs",
              "selector:matchPIDs.followForks",
              "selector:matchPIDs.isNamespacePID",
          });

    PolicyInfo k = analyse_policy(fixture_ok("kprobe_full.yaml"));
    CHECK(k.hooks.at(0).features ==
          std::vector<std::string>{
              "action:Post",
              "action:Post.rateLimit",
              "arg:char_iovec",
              "arg:int",
              "arg:resolve",
              "arg:returnCopy",
              "arg:sizeArgIndex",
              "arg:size_t",
              "arg:sock",
              "arg:uint32",
              "hook:return",
              "operator:GT",
              "operator:LT",
              "selector:matchArgs",
              "selector:matchReturnActions",
              "selector:matchReturnArgs",
          });
    CHECK(k.hooks.at(1).features ==
          std::vector<std::string>{"arg:char_buf", "arg:fd", "arg:maxData", "arg:sizeArgIndex",
                                   "arg:uint64"});
    CHECK(k.hooks.at(2).features ==
          std::vector<std::string>{"arg:int", "arg:sock", "hook:return",
                                   "hook:returnArgAction.TrackSock"});

    PolicyInfo t = analyse_policy(fixture_ok("tracepoint_full.yaml"));
    CHECK(t.hooks.at(1).features ==
          std::vector<std::string>{"arg:int", "arg:linux_binprm", "arg:resolve", "hook:raw"});
    CHECK(analyse_policy(fixture_ok("lists_options.yaml")).hooks.at(0).features ==
          std::vector<std::string>{"arg:int", "hook:list"});
}

TEST_CASE("hook_to_json: exact output for a small tracepoint", "[policy][json]")
{
    Policy p = fixture_ok("lists_options.yaml");
    auto json = hook_to_json(p, HookKind::tracepoints, 0);
    REQUIRE(json);
    CHECK(*json ==
          R"({"policy":"lists-and-options","kind":"tracepoints","index":0,)"
          R"("subsystem":"raw_syscalls","event":"sys_enter","raw":false,"message":"","tags":[],)"
          R"("args":[{"index":4,"type":"syscall64","label":"","resolve":"","maxData":false,)"
          R"("returnCopy":false,"sizeArgIndex":0}],)"
          R"("selectors":[{"label":"","matchPIDs":[],)"
          R"("matchArgs":[{"index":4,"args":[],"operator":"NotInMap",)"
          R"("values":["list:all","1000:1010","42"],"argPositions":[0]}],)"
          R"("matchReturnArgs":[],"matchBinaries":[],"matchNamespaces":[],)"
          R"("matchNamespaceChanges":[],"matchCapabilities":[],"matchCapabilityChanges":[],)"
          R"("matchActions":[{"action":"Signal","argSig":19}],"matchReturnActions":[]}],)"
          R"("lists":[{"name":"all","type":"generated_syscalls","values":[],"pattern":""}]})");
}

TEST_CASE("hook_to_json: kprobes carry return fields, lists and options", "[policy][json]")
{
    Policy p = fixture_ok("lists_options.yaml");
    auto json = hook_to_json(p, HookKind::kprobes, 0);
    REQUIRE(json);
    CHECK(*json ==
          R"({"policy":"lists-and-options","kind":"kprobes","index":0,"call":"list:dups",)"
          R"("syscall":true,"return":false,"returnArg":null,"returnArgAction":null,)"
          R"("ignore":{"callNotFound":false},"message":"","tags":[],)"
          R"("args":[{"index":0,"type":"int","label":"","resolve":"","maxData":false,)"
          R"("returnCopy":false,"sizeArgIndex":0}],"selectors":[],)"
          R"("lists":[{"name":"dups","type":"syscalls","values":["sys_dup","sys_dup2",)"
          R"("i386/sys_dup"],"pattern":""}],"options":{"disable-kprobe-multi":true}})");

    Policy k = fixture_ok("kprobe_full.yaml");
    auto sk = hook_to_json(k, HookKind::kprobes, 2);
    REQUIRE(sk);
    CHECK(sk->find(R"("return":true,"returnArg":{"index":0,"type":"sock","label":"",)") !=
          std::string::npos);
    CHECK(sk->find(R"("returnArgAction":"TrackSock")") != std::string::npos);
    auto full = hook_to_json(k, HookKind::kprobes, 0);
    REQUIRE(full);
    CHECK(full->find(R"("matchReturnActions":[{"action":"Post","rateLimitMs":60000,)"
                     R"("rateLimitScope":"process","kernelStackTrace":false,)"
                     R"("userStackTrace":false,"imaHash":false}])") != std::string::npos);
    CHECK(full->find(R"("ignore":{"callNotFound":true})") != std::string::npos);
}

TEST_CASE("hook_to_json: selectors of every kind", "[policy][json]")
{
    Policy p = fixture_ok("selectors_all.yaml");
    auto json = hook_to_json(p, HookKind::kprobes, 0);
    REQUIRE(json);
    for (std::string_view part : {
             R"("matchPIDs":[{"operator":"NotIn","followForks":true,"isNamespacePID":true,)"
             R"("values":[0,1]},{"operator":"In","followForks":false,"isNamespacePID":false,)"
             R"("values":[4242]}])",
             R"("matchBinaries":[{"operator":"Prefix","values":["/usr/local/"],)"
             R"("followChildren":false}])",
             R"("matchNamespaces":[{"namespace":"Pid","operator":"NotIn","values":["host_ns"]},)"
             R"({"namespace":"Mnt","operator":"In","values":["4026531841","host_ns"]}])",
             R"("matchNamespaceChanges":[{"operator":"In","values":["Mnt","User"]}])",
             R"("matchCapabilities":[{"type":"Permitted","operator":"In",)"
             R"("isNamespaceCapability":true,"values":["CAP_NET_RAW","CAP_SYS_ADMIN"],)"
             R"("mask":2105344}])",
             R"("matchCapabilityChanges":[{"type":"Effective","operator":"NotIn",)"
             R"("isNamespaceCapability":false,"values":["CAP_SETUID"],"mask":128}])",
             R"({"action":"GetUrl","argUrl":"http://canary.example/hit"})",
             R"({"action":"DnsLookup","argFqdn":"canary.example"})",
         }) {
        INFO(part);
        CHECK(json->find(part) != std::string::npos);
    }
}

TEST_CASE("hook_to_json: uprobes and lsmhooks", "[policy][json]")
{
    Policy u = fixture_ok("uprobe_full.yaml");
    auto uj = hook_to_json(u, HookKind::uprobes, 1);
    REQUIRE(uj);
    CHECK(*uj ==
          R"({"policy":"uprobe-full","kind":"uprobes","index":1,)"
          R"("path":"/usr/lib/x86_64-linux-gnu/libc.so.6","symbols":["malloc","free"],)"
          R"("return":false,"offsets":[],"refCtrOffsets":[],"returnArg":null,"message":"","tags":[],)"
          R"("args":[{"index":0,"type":"uint64","label":"size","resolve":"","maxData":false,)"
          R"("returnCopy":false,"sizeArgIndex":0}],"selectors":[],"lists":[],)"
          R"("options":{"disable-uprobe-multi":true}})");

    Policy l = fixture_ok("lsmhook_full.yaml");
    auto lj = hook_to_json(l, HookKind::lsmhooks, 1);
    REQUIRE(lj);
    CHECK(lj->starts_with(R"({"policy":"lsm-full","kind":"lsmhooks","index":1,)"
                          R"("hook":"bprm_check_security","message":"",)"));
    CHECK(lj->find(R"("matchActions":[{"action":"Sigkill"}])") != std::string::npos);
    auto oj = hook_to_json(l, HookKind::lsmhooks, 0);
    REQUIRE(oj);
    CHECK(oj->find(R"({"action":"Override","argError":-13})") != std::string::npos);
}

TEST_CASE("hook_to_json escapes strings", "[policy][json]")
{
    Policy p = parse_ok(kprobe_policy("    message: \"say \\\"hi\\\"\\t\\\\ \\u0001 caf\\u00e9 \\U0001F600\\n\"\n"));
    auto json = hook_to_json(p, HookKind::kprobes, 0);
    REQUIRE(json);
    CHECK(json->find(R"("message":"say \"hi\"\t\\ \u0001 café 😀\n")") != std::string::npos);
}

TEST_CASE("hook_to_json refuses a hook that does not exist", "[policy][json]")
{
    Policy p = parse_ok(kprobe_policy(""));
    auto json = hook_to_json(p, HookKind::tracepoints, 0);
    REQUIRE_FALSE(json);
    CHECK(json.error().code == Errc::not_found);
    CHECK(json.error().message() == "policy test: there is no tracepoints[0]");
    CHECK_FALSE(hook_to_json(p, HookKind::kprobes, 1));
    CHECK(hook_to_json(p, HookKind::kprobes, 0));
}
