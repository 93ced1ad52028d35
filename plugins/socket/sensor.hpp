// The socket sensor: loads sensor.bpf.c with what the configuration asks for, attaches only the
// programs of the reported operations, and turns its records into process_socket events.
#pragma once

#include "decode.hpp"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/json.hpp>
#include <vigil/sdk/plugin.hpp>

#include <span>
#include <string>
#include <vector>

struct sensor;

namespace vigil::socket {

class Sensor {
public:
    Sensor(sdk::Host& host, SensorOptions options);
    Sensor(const Sensor&) = delete;
    Sensor& operator=(const Sensor&) = delete;

    void start();
    void stop();
    bool enabled() const { return options_.bpf.events != 0; }

    void decode(std::span<const std::byte> rec, sdk::Emitter& out);

private:
    sdk::Host& host_;
    SensorOptions options_;
    sdk::Skeleton<::sensor> skel_;
    sdk::JsonWriter body_;
    std::string summary_;
};

} // namespace vigil::socket
