#include "master/change_waits.h"

#include <cerrno>

namespace hafs::master {

void ChangeWaits::Add(uint64_t client_id, uint64_t sequence, PendingReply reply, Wait wait, int64_t now_ms) {
  std::pair<uint64_t, uint64_t> key{client_id, sequence};
  if (client_id != 0) {
    if (auto found = by_request_.find(key); found != by_request_.end()) {
      waiting_.erase(found->second);  // a client reusing a sequence: the newer one counts
      by_request_.erase(found);
    }
  }
  wait.since_ms = now_ms;
  waiting_.push_back({key, std::move(reply), true, std::move(wait), now_ms});
  if (client_id != 0) by_request_[key] = std::prev(waiting_.end());
}

bool ChangeWaits::Reattach(const wire::Envelope& request, PendingReply* retry, int64_t now_ms) {
  if (request.client_id() == 0) return false;
  auto found = by_request_.find({request.client_id(), request.sequence()});
  if (found == by_request_.end()) return false;
  Waiting& waiting = *found->second;
  waiting.reply.identity = std::move(retry->identity);
  waiting.reply.op = retry->op;
  waiting.reply.received = retry->received;
  waiting.reply.envelope.set_request_id(request.request_id());
  waiting.attached = true;
  waiting.attached_ms = now_ms;
  return true;
}

std::vector<PendingReply> ChangeWaits::Due(int64_t now_ms, const Settled& settled,
                                           const std::function<void(const Wait&)>& done) {
  std::vector<PendingReply> due;
  for (auto waiting = waiting_.begin(); waiting != waiting_.end();) {
    if (settled(waiting->wait)) {
      done(waiting->wait);
      if (waiting->attached) due.push_back(std::move(waiting->reply));
      if (waiting->request.first != 0) by_request_.erase(waiting->request);
      waiting = waiting_.erase(waiting);
      continue;
    }
    if (waiting->attached && now_ms - waiting->attached_ms >= kAnswerAgainAfterMs) {
      PendingReply again;
      again.identity = std::move(waiting->reply.identity);
      again.op = waiting->reply.op;
      again.received = waiting->reply.received;
      again.envelope.set_request_id(waiting->reply.envelope.request_id());
      again.envelope.set_epoch(waiting->reply.envelope.epoch());
      again.envelope.mutable_reply()->set_error(EAGAIN);
      again.envelope.mutable_reply()->set_error_message("waiting for other mounts to drop what they cached; ask again");
      waiting->attached = false;
      due.push_back(std::move(again));
    }
    ++waiting;
  }
  return due;
}

bool ChangeWaits::Waits(uint64_t session) const {
  auto next = by_request_.lower_bound({session, 0});
  return next != by_request_.end() && next->first.first == session;
}

void ChangeWaits::Clear() {
  waiting_.clear();
  by_request_.clear();
}

}  // namespace hafs::master
