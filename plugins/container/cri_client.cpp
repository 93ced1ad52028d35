#include "cri_client.hpp"

#include "api.grpc.pb.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <unordered_map>

namespace vigil::container {

namespace rt = runtime::v1;

struct CriClient::Impl {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<rt::RuntimeService::Stub> stub;
};

namespace {

Pairs pairs(const google::protobuf::Map<std::string, std::string>& m)
{
    return Pairs(m.begin(), m.end());
}

std::string status_text(const char* call, const grpc::Status& s)
{
    return fmt::format("{}: {} ({})", call, s.error_message(), static_cast<int>(s.error_code()));
}

} // namespace

CriClient::CriClient(std::string socket, std::chrono::milliseconds timeout)
    : socket_(std::move(socket)), timeout_(timeout), impl_(std::make_unique<Impl>())
{
    impl_->channel = grpc::CreateChannel("unix://" + socket_, grpc::InsecureChannelCredentials());
    impl_->stub = rt::RuntimeService::NewStub(impl_->channel);
}

CriClient::~CriClient() = default;

std::expected<std::string, std::string> CriClient::runtime_name()
{
    if (!runtime_.empty())
        return runtime_;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
    rt::VersionRequest req;
    rt::VersionResponse resp;
    if (grpc::Status s = impl_->stub->Version(&ctx, req, &resp); !s.ok())
        return std::unexpected(status_text("Version", s));
    runtime_ = resp.runtime_name();
    return runtime_;
}

std::expected<std::vector<CriContainer>, std::string> CriClient::list()
{
    std::unordered_map<std::string, const rt::PodSandbox*> pods;
    rt::ListPodSandboxResponse sandboxes;
    {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
        if (grpc::Status s = impl_->stub->ListPodSandbox(&ctx, rt::ListPodSandboxRequest{}, &sandboxes); !s.ok())
            return std::unexpected(status_text("ListPodSandbox", s));
    }
    for (const auto& p : sandboxes.items())
        pods[p.id()] = &p;
    rt::ListContainersResponse containers;
    {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
        if (grpc::Status s = impl_->stub->ListContainers(&ctx, rt::ListContainersRequest{}, &containers); !s.ok())
            return std::unexpected(status_text("ListContainers", s));
    }
    std::vector<CriContainer> out;
    out.reserve(containers.containers_size() + sandboxes.items_size());
    auto add_pod = [&](CriContainer& c, const rt::PodSandbox& p) {
        c.pod_name = p.metadata().name();
        c.pod_namespace = p.metadata().namespace_();
        c.pod_uid = p.metadata().uid();
        c.pod_labels = pairs(p.labels());
        c.pod_annotations = pairs(p.annotations());
    };
    for (const auto& k : containers.containers()) {
        CriContainer c;
        c.id = k.id();
        c.name = k.metadata().name();
        c.image_name = k.image().image();
        c.image_id = k.image_ref();
        c.created_ns = k.created_at();
        if (auto it = pods.find(k.pod_sandbox_id()); it != pods.end())
            add_pod(c, *it->second);
        out.push_back(std::move(c));
    }
    // the sandbox ("pause") containers run processes too
    for (const auto& p : sandboxes.items()) {
        CriContainer c;
        c.id = p.id();
        c.name = "POD";
        c.created_ns = p.created_at();
        add_pod(c, p);
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace vigil::container
