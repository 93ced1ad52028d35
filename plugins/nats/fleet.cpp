#include "fleet.hpp"

#include <vigil/sdk/json.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace vigil::nats {

namespace {

// A key-value key token: [-/_=.a-zA-Z0-9] are allowed; '.' separates ours.
std::string key_token(std::string_view text)
{
    std::string out;
    for (char c : text)
        out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '=') ? c : '_';
    return out.empty() ? "_" : out;
}

std::string now_rfc3339()
{
    auto now = std::chrono::system_clock::now();
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(now));
}

} // namespace

PolicyWatcher::PolicyWatcher(Settings settings, const vigil::sdk::Host& host)
    : s_(std::move(settings)), host_(host), node_(key_token(host.node_name()))
{
    if (!host_.takes_policies())
        throw vigil::sdk::Error(VIGIL_ERR_UNSUPPORTED, "fleet_policies needs a host of ABI 1.3 or later");
}

PolicyWatcher::~PolicyWatcher() { stop(); }

void PolicyWatcher::start()
{
    {
        std::lock_guard lock(mu_);
        quit_ = false;
    }
    thread_ = std::thread([this] { run(); });
}

void PolicyWatcher::stop()
{
    {
        std::lock_guard lock(mu_);
        quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
    close();
    nc_.reset();
}

void PolicyWatcher::verdict(const vigil_policy_verdict& v)
{
    auto str = [](const char* p) { return std::string(p ? p : ""); };
    {
        std::lock_guard lock(mu_);
        verdicts_.push_back({str(v.key), str(v.state), str(v.policy), str(v.mode), str(v.error), v.revision});
    }
    cv_.notify_all();
}

void PolicyWatcher::warn(const std::string& text)
{
    if (text != last_warning_)
        host_.warn(text);
    last_warning_ = text;
}

bool PolicyWatcher::wait_for(std::chrono::milliseconds d)
{
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return quit_; });
    return !quit_;
}

void PolicyWatcher::close()
{
    if (watcher_)
        kvWatcher_Destroy(watcher_);
    watcher_ = nullptr;
    if (policies_)
        kvStore_Destroy(policies_);
    policies_ = nullptr;
    if (status_)
        kvStore_Destroy(status_);
    status_ = nullptr;
    if (js_)
        jsCtx_Destroy(js_);
    js_ = nullptr;
}

bool PolicyWatcher::ensure_buckets()
{
    if (!nc_) {
        try {
            nc_ = connect(s_, "vigild fleet policies");
        } catch (const vigil::sdk::Error& e) {
            warn(fmt::format("fleet policies: {}", e.what()));
            return false;
        }
    }
    if (natsConnection_Status(nc_.get()) != NATS_CONN_STATUS_CONNECTED) {
        // watched again from the current content once back: what changed meanwhile is caught up
        close();
        if (natsConnection_Status(nc_.get()) == NATS_CONN_STATUS_CLOSED)
            nc_.reset();
        return false;
    }
    if (watcher_)
        return true;
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = s_.ack_timeout_ms;
    if (!js_ && natsConnection_JetStream(&js_, nc_.get(), &o) != NATS_OK)
        return false;
    auto bucket = [&](kvStore** kv, const std::string& name) {
        if (*kv)
            return true;
        natsStatus st = js_KeyValue(kv, js_, name.c_str());
        if (st == NATS_NOT_FOUND) {
            kvConfig c;
            kvConfig_Init(&c);
            c.Bucket = name.c_str();
            c.History = 1;
            c.Replicas = s_.replicas;
            st = js_CreateKeyValue(kv, js_, &c);
        }
        if (st != NATS_OK) {
            warn(fmt::format("fleet policies: bucket {}: {}", name, nats_error(st)));
            *kv = nullptr;
            return false;
        }
        return true;
    };
    if (!bucket(&policies_, s_.policy_bucket) || !bucket(&status_, s_.status_bucket))
        return false;
    if (natsStatus st = kvStore_WatchAll(&watcher_, policies_, nullptr); st != NATS_OK) {
        warn(fmt::format("fleet policies: watching bucket {}: {}", s_.policy_bucket, nats_error(st)));
        watcher_ = nullptr;
        return false;
    }
    initial_ = true;
    seen_.clear();
    last_warning_.clear();
    host_.info(fmt::format("fleet policies: watching bucket {}", s_.policy_bucket));
    return true;
}

void PolicyWatcher::on_entry(kvEntry* e)
{
    std::string key = kvEntry_Key(e);
    uint64_t rev = kvEntry_Revision(e);
    kvOperation op = kvEntry_Operation(e);
    if (op != kvOp_Put) {
        applied_.erase(key);
        host_.policy_update(VIGIL_POLICY_DELETE, key, {}, rev);
        return;
    }
    if (initial_)
        seen_.insert(key);
    applied_.insert(key);
    size_t len = static_cast<size_t>(kvEntry_ValueLen(e));
    if (len > size_t(s_.max_policy_kb) << 10) {
        // refused like any other bad document (it replaces what the key held), with its size
        oversized_[key] = {rev, len};
        host_.policy_update(VIGIL_POLICY_PUT, key, {}, rev);
        return;
    }
    host_.policy_update(VIGIL_POLICY_PUT, key,
                        std::string_view(static_cast<const char*>(kvEntry_Value(e)), len), rev);
}

void PolicyWatcher::write_verdicts()
{
    std::deque<Verdict> todo;
    {
        std::lock_guard lock(mu_);
        todo.swap(verdicts_);
    }
    for (auto& v : todo) {
        if (auto it = oversized_.find(v.key); it != oversized_.end() && it->second.first == v.revision) {
            v.error = fmt::format("document of {} bytes is larger than max_policy_kb ({} KiB)", it->second.second,
                                  s_.max_policy_kb);
            oversized_.erase(it);
        }
        std::string skey = v.key + "." + node_;
        if (!status_)
            continue;
        if (v.state == "deleted") {
            kvStore_Delete(status_, skey.c_str());
            continue;
        }
        vigil::sdk::JsonWriter w;
        w.begin_object()
            .member("policy", v.policy)
            .member("key", v.key)
            .member("node", host_.node_name())
            .member("state", v.state)
            .member("mode", v.mode)
            .member("error", v.error)
            .member("revision", v.revision)
            .member("time", now_rfc3339())
            .end_object();
        std::string text(w.str());
        if (natsStatus st = kvStore_Put(nullptr, status_, skey.c_str(), text.data(), static_cast<int>(text.size()));
            st != NATS_OK)
            warn(fmt::format("fleet policies: writing {} to bucket {}: {}", skey, s_.status_bucket, nats_error(st)));
    }
}

void PolicyWatcher::forget_verdicts()
{
    // This node's verdicts on keys the bucket no longer has (deleted while it was down).
    kvKeysList keys{};
    if (!status_ || kvStore_Keys(&keys, status_, nullptr) != NATS_OK)
        return;
    std::string suffix = "." + node_;
    for (int i = 0; i < keys.Count; ++i) {
        std::string_view k = keys.Keys[i];
        if (k.size() > suffix.size() && k.ends_with(suffix) &&
            !seen_.contains(std::string(k.substr(0, k.size() - suffix.size()))))
            kvStore_Delete(status_, keys.Keys[i]);
    }
    kvKeysList_Destroy(&keys);
}

void PolicyWatcher::run()
{
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
        {
            std::lock_guard lock(mu_);
            if (quit_)
                return;
        }
        if (!ensure_buckets()) {
            if (!wait_for(backoff))
                return;
            backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
            continue;
        }
        backoff = std::chrono::milliseconds(100);
        kvEntry* e = nullptr;
        natsStatus st = kvWatcher_Next(&e, watcher_, 100);
        if (st == NATS_OK && e) {
            on_entry(e);
            kvEntry_Destroy(e);
        } else if (st == NATS_OK) {
            // the replay of the current content is over: keys handed over before and gone now
            // were deleted while the watch was down
            if (initial_)
                for (auto it = applied_.begin(); it != applied_.end();) {
                    if (seen_.contains(*it)) {
                        ++it;
                        continue;
                    }
                    host_.policy_update(VIGIL_POLICY_DELETE, *it, {}, 0);
                    it = applied_.erase(it);
                }
            if (initial_)
                forget_verdicts();
            initial_ = false;
        } else if (st != NATS_TIMEOUT) {
            warn(fmt::format("fleet policies: watching bucket {}: {}", s_.policy_bucket, nats_error(st)));
            kvWatcher_Destroy(watcher_);
            watcher_ = nullptr;
        }
        write_verdicts();
    }
}

} // namespace vigil::nats
