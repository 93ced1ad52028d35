#include "publisher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace vigil::nats {

namespace {

constexpr const char* subject_root = "vigil.events";
// JetStream's error code for a message larger than the stream takes.
constexpr int js_message_too_large = 10054;

jsRetentionPolicy retention_of(const std::string& r)
{
    return r == "interest" ? js_InterestPolicy : r == "workqueue" ? js_WorkQueuePolicy : js_LimitsPolicy;
}
const char* retention_name(jsRetentionPolicy r)
{
    return r == js_InterestPolicy ? "interest" : r == js_WorkQueuePolicy ? "workqueue" : "limits";
}

} // namespace

Publisher::Publisher(Settings settings, std::string name, std::function<void(const std::string&)> log)
    : s_(std::move(settings)), name_(std::move(name)), warn_(std::move(log))
{
    std::random_device rd;
    id_prefix_ = fmt::format("{:08x}{:08x}.", rd(), rd());
}

Publisher::~Publisher()
{
    quit_ = true;
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void Publisher::start()
{
    {
        std::lock_guard lock(mu_);
        stopping_ = false;
    }
    quit_ = false;
    thread_ = std::thread([this] { run(); });
}

void Publisher::stop()
{
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(s_.stop_drain_ms);
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
    std::lock_guard lock(mu_);
    uint64_t left = 0;
    for (const auto& e : buffer_)
        left += !e.done;
    if (left)
        lost_["stop"] += left;
    buffer_.clear();
    buffer_bytes_ = 0;
    if (js_) {
        jsCtx_Destroy(js_);
        js_ = nullptr;
    }
    nc_.reset();
    connected_ = false;
    stream_ok_ = false;
}

size_t Publisher::offer(std::span<const vigil_export_event> events)
{
    size_t cap = size_t(s_.buffer_mb) << 20;
    size_t taken = 0;
    {
        std::lock_guard lock(mu_);
        if (stopping_)
            return 0;
        for (const auto& ev : events) {
            auto e = vigil::sdk::exported(ev);
            size_t need = e.json.size() + 64;
            if (buffer_bytes_ + need > cap && !buffer_.empty())
                break;
            std::string subject = fmt::format("{}.{}.{}", subject_root, subject_token(e.node), subject_token(e.kind));
            buffer_.push_back(Entry{next_seq_++, std::move(subject), std::string(e.json)});
            buffer_bytes_ += need;
            ++taken;
        }
        accepted_ += taken;
    }
    if (taken)
        cv_.notify_all();
    return taken;
}

void Publisher::status(vigil_export_status& st)
{
    std::lock_guard lock(mu_);
    st.connected = connected_.load() && stream_ok_;
    st.accepted = accepted_;
    st.delivered = delivered_;
    uint64_t pending = 0;
    for (const auto& e : buffer_)
        pending += !e.done;
    st.pending = pending;
    st.errors = errors_;
    size_t i = 0;
    for (const auto& [reason, n] : lost_) {
        if (i == std::size(st.lost))
            break;
        vigil::sdk::write_error(st.lost[i].reason, sizeof st.lost[i].reason, reason);
        st.lost[i++].count = n;
    }
    vigil::sdk::write_error(st.detail, sizeof st.detail, detail_);
}

void Publisher::lose(const std::string& reason, uint64_t n)
{
    std::lock_guard lock(mu_);
    lost_[reason] += n;
}

void Publisher::set_detail(std::string text)
{
    std::lock_guard lock(mu_);
    detail_ = std::move(text);
}

void Publisher::error(std::string text)
{
    bool changed;
    {
        std::lock_guard lock(mu_);
        errors_++;
        changed = text != detail_;
        detail_ = text;
    }
    if (changed && warn_)
        warn_(text);
}

bool Publisher::wait_for(std::chrono::milliseconds d)
{
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return quit_.load() || (stopping_ && std::chrono::steady_clock::now() >= drain_deadline_); });
    return !(quit_.load() || (stopping_ && std::chrono::steady_clock::now() >= drain_deadline_));
}

bool Publisher::ensure_connection()
{
    if (nc_)
        return true;
    try {
        nc_ = connect(s_, name_);
    } catch (const vigil::sdk::Error& e) {
        error(e.what());
        return false;
    }
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = s_.ack_timeout_ms;
    o.PublishAsync.AckHandler = &Publisher::on_ack;
    o.PublishAsync.AckHandlerClosure = this;
    o.PublishAsync.MaxPending = s_.batch * 2;
    if (natsStatus st = natsConnection_JetStream(&js_, nc_.get(), &o); st != NATS_OK) {
        error(fmt::format("JetStream context: {}", nats_error(st)));
        nc_.reset();
        return false;
    }
    return true;
}

bool Publisher::ensure_stream()
{
    natsConnStatus cs = natsConnection_Status(nc_.get());
    connected_ = cs == NATS_CONN_STATUS_CONNECTED;
    if (!connected_) {
        // why it is not connected (refused credentials, TLS), when the server said so
        const char* text = nullptr;
        natsStatus last = natsConnection_GetLastError(nc_.get(), &text);
        std::string why = last != NATS_OK ? fmt::format(": {}", text && *text ? text : natsStatus_GetText(last)) : "";
        if (cs == NATS_CONN_STATUS_CLOSED) { // the library gave up: a new connection
            error(fmt::format("connection to {} closed{}", fmt::join(s_.servers, ","), why));
            jsCtx_Destroy(js_);
            js_ = nullptr;
            nc_.reset();
            stream_ok_ = false;
        } else if (!why.empty())
            error(fmt::format("not connected to {}{}", fmt::join(s_.servers, ","), why));
        else
            set_detail(fmt::format("connecting to {}", fmt::join(s_.servers, ",")));
        return false;
    }
    if (stream_ok_)
        return true;
    jsStreamInfo* si = nullptr;
    jsErrCode ec = jsErrCode(0);
    natsStatus st = js_GetStreamInfo(&si, js_, s_.stream.c_str(), nullptr, &ec);
    int64_t max_age_ns = s_.max_age_seconds * 1000000000LL;
    int64_t max_bytes = s_.max_bytes ? s_.max_bytes : -1;
    jsStorageType storage = s_.storage == "memory" ? js_MemoryStorage : js_FileStorage;
    std::string subjects = std::string(subject_root) + ".>";
    if (st == NATS_NOT_FOUND || ec == JSStreamNotFoundErr) {
        jsStreamConfig c;
        jsStreamConfig_Init(&c);
        c.Name = s_.stream.c_str();
        const char* subj[] = {subjects.c_str()};
        c.Subjects = subj;
        c.SubjectsLen = 1;
        c.Retention = retention_of(s_.retention);
        c.MaxAge = max_age_ns;
        c.MaxBytes = max_bytes;
        c.Storage = storage;
        c.Replicas = s_.replicas;
        c.Duplicates = s_.duplicate_window_seconds * 1000000000LL;
        st = js_AddStream(&si, js_, &c, nullptr, &ec);
        if (st != NATS_OK) {
            error(fmt::format("creating stream {}: {} (code {})", s_.stream, nats_error(st), int(ec)));
            return false;
        }
    } else if (st != NATS_OK) {
        error(fmt::format("checking stream {}: {} (code {})", s_.stream, nats_error(st), int(ec)));
        return false;
    } else {
        // It exists: it must be the stream this config describes, or events would go where no
        // one expects them, or be kept for another time than configured.
        const jsStreamConfig* c = si->Config;
        std::vector<std::string> diff;
        bool has_subject = false;
        for (int i = 0; i < c->SubjectsLen; ++i)
            has_subject = has_subject || subjects == c->Subjects[i];
        if (!has_subject)
            diff.push_back(fmt::format("subjects lack {}", subjects));
        if (c->Retention != retention_of(s_.retention))
            diff.push_back(fmt::format("retention {} (configured {})", retention_name(c->Retention), s_.retention));
        if (c->MaxAge != max_age_ns)
            diff.push_back(fmt::format("max_age_seconds {} (configured {})", c->MaxAge / 1000000000LL,
                                       s_.max_age_seconds));
        if (c->MaxBytes != max_bytes)
            diff.push_back(fmt::format("max_bytes {} (configured {})", c->MaxBytes, s_.max_bytes));
        if (c->Storage != storage)
            diff.push_back(fmt::format("storage {} (configured {})", c->Storage == js_MemoryStorage ? "memory" : "file",
                                       s_.storage));
        if (c->Replicas != s_.replicas)
            diff.push_back(fmt::format("replicas {} (configured {})", c->Replicas, s_.replicas));
        if (!diff.empty()) {
            jsStreamInfo_Destroy(si);
            error(fmt::format("stream {} exists with another configuration: {}; change the config or the stream",
                              s_.stream, fmt::join(diff, ", ")));
            return false;
        }
    }
    jsStreamInfo_Destroy(si);
    stream_ok_ = true;
    set_detail(fmt::format("publishing to stream {}", s_.stream));
    if (warn_)
        warn_(fmt::format("publishing to stream {} ({})", s_.stream, fmt::join(s_.servers, ",")));
    return true;
}

void Publisher::on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure)
{
    auto* self = static_cast<Publisher*>(closure);
    const char* id = nullptr;
    if (msg && natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id) {
        const char* dot = std::strrchr(id, '.');
        uint64_t seq = dot ? std::strtoull(dot + 1, nullptr, 10) : 0;
        std::lock_guard lock(self->ack_mu_);
        if (seq >= self->batch_first_ && seq - self->batch_first_ < self->ack_state_.size()) {
            int& state = self->ack_state_[seq - self->batch_first_];
            if (pa)
                state = 1;
            else if (pae && pae->ErrCode == js_message_too_large)
                state = 2;
            else {
                state = 3;
                if (pae)
                    self->ack_error_ = pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err);
            }
        }
    }
    natsMsg_Destroy(msg);
}

bool Publisher::publish_batch()
{
    // the oldest events not done yet; their references stay valid while offer() appends
    std::vector<Entry*> batch;
    {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(100),
                     [&] { return quit_.load() || stopping_ || !buffer_.empty(); });
        while (!buffer_.empty() && buffer_.front().done) {
            buffer_bytes_ -= buffer_.front().data.size() + 64;
            buffer_.pop_front();
        }
        for (auto& e : buffer_) {
            if (batch.size() == size_t(s_.batch))
                break;
            if (!e.done)
                batch.push_back(&e);
        }
    }
    if (batch.empty())
        return true;
    // sequences of one batch need not be contiguous (a retried one among new ones): map by range
    uint64_t first = batch.front()->seq, last = batch.back()->seq;
    {
        std::lock_guard lock(ack_mu_);
        batch_first_ = first;
        ack_state_.assign(last - first + 1, 0);
        ack_error_.clear();
    }
    uint64_t too_large = 0;
    std::string send_error;
    for (Entry* e : batch) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        std::string id = id_prefix_ + std::to_string(e->seq);
        po.MsgId = id.c_str();
        po.MaxWait = s_.ack_timeout_ms;
        natsStatus st = js_PublishAsync(js_, e->subject.c_str(), e->data.data(), static_cast<int>(e->data.size()), &po);
        if (st == NATS_MAX_PAYLOAD) {
            std::lock_guard lock(ack_mu_);
            ack_state_[e->seq - first] = 2;
            continue;
        }
        if (st != NATS_OK) {
            send_error = nats_error(st);
            break;
        }
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = s_.ack_timeout_ms;
    natsStatus done = js_PublishAsyncComplete(js_, &po);
    if (done != NATS_OK) {
        // what never got an ack is taken back (and destroyed): it is published again
        natsMsgList pending{};
        if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK)
            natsMsgList_Destroy(&pending);
    }
    uint64_t stored = 0, failed = 0;
    std::string ack_error;
    {
        std::lock_guard lock(ack_mu_);
        std::lock_guard lock2(mu_);
        for (Entry* e : batch) {
            int state = ack_state_[e->seq - first];
            if (state == 1 || state == 2) {
                e->done = true;
                stored += state == 1;
                too_large += state == 2;
            } else
                failed++;
        }
        delivered_ += stored;
        ack_error = ack_error_;
        batch_first_ = 0;
        ack_state_.clear();
    }
    if (too_large)
        lose("too_large", too_large);
    if (!failed)
        return true;
    std::string why = !send_error.empty() ? "publishing: " + send_error
                      : done != NATS_OK  ? fmt::format("no acknowledgment within {} ms", s_.ack_timeout_ms)
                                         : "rejected: " + ack_error;
    error(fmt::format("{} of {} events not stored in stream {} ({}); sending them again", failed, batch.size(),
                      s_.stream, why));
    if (!ack_error.empty()) // the stream may be gone or changed: check it again
        stream_ok_ = false;
    return false;
}

void Publisher::run()
{
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
        {
            std::lock_guard lock(mu_);
            bool drained = std::none_of(buffer_.begin(), buffer_.end(), [](const Entry& e) { return !e.done; });
            if (quit_ || (stopping_ && (drained || std::chrono::steady_clock::now() >= drain_deadline_)))
                return;
        }
        if (!ensure_connection() || !ensure_stream()) {
            if (!wait_for(backoff))
                return;
            backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
            continue;
        }
        if (publish_batch()) {
            backoff = std::chrono::milliseconds(100);
            continue;
        }
        if (!wait_for(backoff))
            return;
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
}

} // namespace vigil::nats
