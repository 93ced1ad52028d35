#include "nats_cluster.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace vigil::fleet_test {

namespace fs = std::filesystem;

std::optional<fs::path> nats_server_path()
{
    for (const char* p : {"/usr/bin/nats-server", "/usr/sbin/nats-server", "/usr/local/bin/nats-server"})
        if (::access(p, X_OK) == 0)
            return fs::path(p);
    return std::nullopt;
}

int free_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        throw std::runtime_error("bind: no free port");
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

NatsCluster::NatsCluster(fs::path dir, Options opts) : dir_(std::move(dir)), opts_(std::move(opts))
{
    for (int i = 0; i < opts_.servers; ++i) {
        Server s;
        s.port = free_port();
        s.cluster_port = free_port();
        s.conf = dir_ / fmt::format("s{}.conf", i + 1);
        s.store = dir_ / fmt::format("s{}-store", i + 1);
        s.log = dir_ / fmt::format("s{}.log", i + 1);
        servers_.push_back(s);
    }
    for (int i = 0; i < opts_.servers; ++i)
        write_conf(i);
}

NatsCluster::~NatsCluster()
{
    disconnect();
    kill_all();
}

void NatsCluster::write_conf(int i)
{
    const Server& s = servers_[i];
    std::ofstream out(s.conf);
    out << fmt::format("server_name: {}\nlisten: 127.0.0.1:{}\n", name(i), s.port);
    if (opts_.jetstream)
        out << fmt::format("jetstream {{\n  store_dir: \"{}\"\n  max_memory_store: 64MB\n  max_file_store: 1GB\n}}\n",
                           s.store.string());
    if (servers_.size() > 1) {
        out << fmt::format("cluster {{\n  name: vigil-test\n  listen: 127.0.0.1:{}\n  routes: [\n", s.cluster_port);
        for (size_t j = 0; j < servers_.size(); ++j)
            if (int(j) != i)
                out << fmt::format("    nats-route://127.0.0.1:{}\n", servers_[j].cluster_port);
        out << "  ]\n}\n";
    }
    out << opts_.extra_conf << '\n';
}

void NatsCluster::start(int i)
{
    Server& s = servers_[i];
    if (s.pid > 0)
        return;
    auto bin = nats_server_path();
    if (!bin)
        throw std::runtime_error("nats-server is not installed");
    pid_t pid = ::fork();
    if (pid == 0) {
        // a test that dies without cleaning up takes its servers with it
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = ::open(s.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ::dup2(fd, STDERR_FILENO);
        ::dup2(fd, STDOUT_FILENO);
        ::execl(bin->c_str(), "nats-server", "-c", s.conf.c_str(), nullptr);
        ::_exit(127);
    }
    s.pid = pid;
}

void NatsCluster::kill(int i)
{
    Server& s = servers_[i];
    if (s.pid <= 0)
        return;
    ::kill(s.pid, SIGKILL);
    ::waitpid(s.pid, nullptr, 0);
    s.pid = -1;
}

void NatsCluster::kill_all()
{
    for (int i = 0; i < size(); ++i)
        kill(i);
}

void NatsCluster::start_all(std::chrono::milliseconds timeout)
{
    for (int i = 0; i < size(); ++i)
        start(i);
    if (!wait_ready(timeout)) {
        std::string logs;
        for (int i = 0; i < size(); ++i)
            logs += fmt::format("--- {}\n{}\n", name(i), log(i));
        throw std::runtime_error("the NATS cluster did not become ready:\n" + logs);
    }
}

bool NatsCluster::wait_ready(std::chrono::milliseconds timeout)
{
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (jsCtx* j = js()) {
            jsAccountInfo* ai = nullptr;
            jsOptions o;
            jsOptions_Init(&o);
            o.Wait = 1000;
            bool ok = !opts_.jetstream || js_GetAccountInfo(&ai, j, &o, nullptr) == NATS_OK;
            if (ai)
                jsAccountInfo_Destroy(ai);
            disconnect();
            if (ok)
                return true;
        }
        std::this_thread::sleep_for(200ms);
    }
    return false;
}

std::string NatsCluster::url(int i) const { return fmt::format("nats://127.0.0.1:{}", servers_[i].port); }

std::vector<std::string> NatsCluster::urls() const
{
    std::vector<std::string> out;
    for (int i = 0; i < size(); ++i)
        out.push_back(url(i));
    return out;
}

std::string NatsCluster::toml_urls() const
{
    std::string out = "[";
    for (int i = 0; i < size(); ++i)
        out += fmt::format("{}\"{}\"", i ? ", " : "", url(i));
    return out + "]";
}

std::string NatsCluster::log(int i) const
{
    std::ifstream in(servers_[i].log);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void NatsCluster::set_client_auth(std::string user, std::string password)
{
    disconnect();
    user_ = std::move(user);
    password_ = std::move(password);
}

void NatsCluster::disconnect()
{
    if (js_)
        jsCtx_Destroy(js_);
    js_ = nullptr;
    if (nc_)
        natsConnection_Destroy(nc_);
    nc_ = nullptr;
}

natsConnection* NatsCluster::nc()
{
    if (nc_)
        return nc_;
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    auto list = urls();
    std::vector<const char*> raw;
    for (const auto& u : list)
        raw.push_back(u.c_str());
    natsOptions_SetServers(o, raw.data(), static_cast<int>(raw.size()));
    natsOptions_SetTimeout(o, 1000);
    // No reconnects: the test's client is connected only for the length of one call (see
    // disconnect()), so that no libnats reconnect is under way while the test kills servers
    // (the test process's heap was seen corrupted when one was).
    natsOptions_SetAllowReconnect(o, false);
    if (!user_.empty())
        natsOptions_SetUserInfo(o, user_.c_str(), password_.c_str());
    natsStatus s = natsConnection_Connect(&nc_, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        nc_ = nullptr;
        return nullptr;
    }
    return nc_;
}

jsCtx* NatsCluster::js()
{
    if (js_)
        return js_;
    if (!nc())
        return nullptr;
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = 5000;
    if (natsConnection_JetStream(&js_, nc_, &o) != NATS_OK)
        js_ = nullptr;
    return js_;
}

int NatsCluster::stream_leader(const std::string& stream)
{
    jsStreamInfo* si = nullptr;
    if (!js() || js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, nullptr) != NATS_OK) {
        disconnect();
        return -1;
    }
    int out = -1;
    if (si->Cluster && si->Cluster->Leader)
        for (int i = 0; i < size(); ++i)
            if (name(i) == si->Cluster->Leader)
                out = i;
    jsStreamInfo_Destroy(si);
    disconnect();
    return out;
}

std::vector<std::pair<std::string, std::string>> NatsCluster::messages(const std::string& stream)
{
    std::vector<std::pair<std::string, std::string>> out;
    jsStreamInfo* si = nullptr;
    if (!js() || js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, nullptr) != NATS_OK) {
        disconnect();
        return out;
    }
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    // One request per message: slower than a consumer, but nothing of it keeps running in
    // the library afterwards (an ordered consumer's background resets were seen to corrupt
    // the test process's heap after the connection was closed).
    for (uint64_t seq = first; seq && seq <= last; ++seq) {
        natsMsg* m = nullptr;
        if (js_GetMsg(&m, js_, stream.c_str(), seq, nullptr, nullptr) != NATS_OK)
            continue; // deleted
        out.emplace_back(natsMsg_GetSubject(m), std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)));
        natsMsg_Destroy(m);
    }
    disconnect();
    return out;
}

uint64_t NatsCluster::message_count(const std::string& stream)
{
    jsStreamInfo* si = nullptr;
    uint64_t n = 0;
    if (js() && js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, nullptr) == NATS_OK) {
        n = si->State.Msgs;
        jsStreamInfo_Destroy(si);
    }
    disconnect();
    return n;
}

} // namespace vigil::fleet_test
