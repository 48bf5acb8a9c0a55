#include "common/request_roles.h"

namespace hafs::curve {
namespace {

using Body = wire::Envelope::BodyCase;

// What a mount, or a user's CLI, asks: the file system and the cluster's state.
bool ClientRequest(Body request) {
  switch (request) {
    case Body::kLookup:
    case Body::kGetAttr:
    case Body::kSetAttr:
    case Body::kMknod:
    case Body::kMkdir:
    case Body::kUnlink:
    case Body::kRmdir:
    case Body::kSymlink:
    case Body::kReadlink:
    case Body::kLink:
    case Body::kRename:
    case Body::kReadDir:
    case Body::kStatFs:
    case Body::kGetChunks:
    case Body::kWriteLease:
    case Body::kWriteDone:
    case Body::kAppend:
    case Body::kFallocate:
    case Body::kReportBadReplica:
    case Body::kReleaseLeases:
    case Body::kMount:
    case Body::kSetXattr:
    case Body::kRemoveXattr:
    case Body::kGetXattr:
    case Body::kListXattr:
    case Body::kLock:
    case Body::kSession:
    case Body::kCloseFiles:
    case Body::kWatchNames:
    case Body::kDelegation:
    case Body::kChangeBatch:
    case Body::kClusterStatus:
    case Body::kFileInfo:
    case Body::kSetGoal:
    case Body::kGetGoal:
      return true;
    default:
      return false;
  }
}

// Chunk data, which clients, and chunkservers in a chain or copying, read and write.
bool DataRequest(Body request) {
  return request == Body::kReadChunk || request == Body::kWriteChunk || request == Body::kTruncateChunk ||
         request == Body::kFallocateChunk;
}

}  // namespace

bool MayAsk(Role role, Body request) {
  switch (role) {
    case Role::kMaster:
      return request == Body::kMasterHello || request == Body::kAppendLog || request == Body::kFetchCheckpoint ||
             request == Body::kLeadershipLease || request == Body::kReplicateChunk;
    case Role::kChunkserver:
      return request == Body::kRegister || request == Body::kHeartbeat || DataRequest(request);
    case Role::kClient:
      return ClientRequest(request) || DataRequest(request);
    case Role::kAdmin:
      // Sessions name other clients' hosts and mount points: the operator's to see.
      return ClientRequest(request) || DataRequest(request) || request == Body::kChunkserverMode ||
             request == Body::kListSessions;
  }
  return false;
}

}  // namespace hafs::curve
