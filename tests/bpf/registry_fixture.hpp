// A plugin registry over real shared maps and the fake plugins (needs CAP_BPF: root), with the
// events its plugins emit handed to `on_event`.
#pragma once

#include "bpf/shared_maps.hpp"
#include "core/config.hpp"
#include "core/features.hpp"
#include "plugins/registry.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace test {

inline vigil::SharedMaps make_maps()
{
    auto m = vigil::SharedMaps::create();
    if (!m)
        FAIL("creating the shared maps needs root: " << m.error().message());
    return std::move(*m);
}

struct RegistryFixture {
    boost::asio::io_context io;
    vigil::Features features;
    vigil::SharedMaps maps = make_maps();
    std::function<void(const std::string&, const vigil_event&)> on_event = [](const std::string&, const vigil_event&) {};
    vigil::PluginRegistry registry{io, maps, features, FAKE_PLUGIN_DIR,
                                   [this](const std::string& id, const vigil_event& ev) { on_event(id, ev); }};

    ~RegistryFixture() { registry.stop_all(); }

    vigil::Result<void> load(std::string_view toml)
    {
        auto cfg = vigil::parse_config(toml, "t.toml");
        REQUIRE(cfg);
        return registry.load(*cfg);
    }
};

} // namespace test
