// The host's shared maps are the rows of the table in vigil/wire/shared_maps.h, created as the
// row says and handed out only at the row's layout (needs CAP_BPF: root).
#include "bpf/shared_maps.hpp"

#include <catch2/catch.hpp>

#include <bpf/bpf.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <unistd.h>

TEST_CASE("every row of the shared-map table is a host map of that type, key, value and size", "[bpf][shared_maps]")
{
    auto maps = vigil::SharedMaps::create();
    REQUIRE(maps);
    REQUIRE(std::size(vigil::sdk::shared_maps) == std::size(vigil::sdk::shared_map_uses));
    for (size_t i = 0; i < std::size(vigil::sdk::shared_maps); ++i) {
        const auto& spec = vigil::sdk::shared_maps[i];
        INFO(spec.name);
        CHECK(std::string(vigil::sdk::shared_map_uses[i].name) == spec.name);
        CHECK(vigil::sdk::shared_map_uses[i].layout_version == spec.layout_version);
        CHECK(vigil::SharedMaps::layout_of(spec.name) == spec.layout_version);
        int fd = maps->dup_fd(spec.name, spec.layout_version);
        REQUIRE(fd >= 0);
        bpf_map_info info{};
        uint32_t len = sizeof info;
        REQUIRE(bpf_obj_get_info_by_fd(fd, &info, &len) == 0);
        ::close(fd);
        CHECK(std::string(info.name) == spec.name);
        CHECK(info.type == spec.map_type);
        CHECK(info.key_size == spec.key_size);
        CHECK(info.value_size == spec.value_size);
        CHECK(info.max_entries == spec.max_entries);
        CHECK(maps->dup_fd(spec.name, spec.layout_version + 1) == -EPROTO);
    }
    CHECK(maps->dup_fd("vigil_nothing", 1) == -ENOENT);
    CHECK(vigil::SharedMaps::layout_of("vigil_nothing") == 0);
}

TEST_CASE("docs/sdk.md lists every shared map with its layout", "[bpf][shared_maps]")
{
    std::ifstream in(VIGIL_SOURCE_DIR "/docs/sdk.md");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& spec : vigil::sdk::shared_maps) {
        std::string row = "| `" + std::string(spec.name) + "` | " + std::to_string(spec.layout_version) + " |";
        INFO(row);
        CHECK(text.str().find(row) != std::string::npos);
    }
}
