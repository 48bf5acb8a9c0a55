// A reply the master service has made and not sent yet: to whom (the ROUTER identity), what,
// and an optional data frame.
#pragma once

#include <chrono>
#include <string>
#include <zmq.hpp>

#include "common/proto/hafs.pb.h"

namespace hafs::master {

struct PendingReply {
  zmq::message_t identity;
  wire::Envelope envelope;
  zmq::message_t data;
  bool has_data = false;
  const std::string* op = nullptr;  // RequestName, for metrics
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
};

}  // namespace hafs::master
