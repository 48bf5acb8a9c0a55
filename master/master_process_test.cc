// The real hafs-master binary (built next to this test binary): an acknowledged create
// survives SIGKILL, SIGTERM exits 0, and a bad option exits non-zero. Skipped when the
// binary has not been built.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/rpc.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

using testing::MknodEnvelope;
using testing::TempDirectory;

std::string MasterBinary() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "hafs-master").string();
}

class MasterProcess {
 public:
  MasterProcess(const std::string& data_directory, std::vector<std::string> extra = {}) {
    port_file_ = data_directory + ".port";
    std::filesystem::remove(port_file_);
    std::vector<std::string> args = {MasterBinary(), "--listen", "127.0.0.1:0", "--data-dir", data_directory,
                                     "--port-file",  port_file_, "--log-level", "warning",
                                     // The test speaks plaintext; CURVE is tested end to end (tests/test_curve.py).
                                     "--insecure"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~MasterProcess() {
    if (pid_ > 0) Signal(SIGKILL);
  }
  // The bound address once the port file appears ("" after 10 s).
  std::string WaitForAddress() {
    for (int i = 0; i < 1000; ++i) {
      std::ifstream file(port_file_);
      std::string address;
      if (file >> address) return address;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "";
  }
  // Sends `signal` and returns the wait status.
  int Signal(int signal) {
    ::kill(pid_, signal);
    return Wait();
  }
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  std::string port_file_;
  pid_t pid_ = -1;
};

class MasterProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(MasterBinary())) GTEST_SKIP() << "hafs-master is not built";
  }
};

TEST_F(MasterProcessTest, AcknowledgedCreateSurvivesSigkill) {
  TempDirectory directory;
  std::string data = directory.path() + "/data";
  {
    MasterProcess master(data);
    std::string address = master.WaitForAddress();
    ASSERT_FALSE(address.empty());
    rpc::Connection connection({address});
    auto reply = connection.Call(MknodEnvelope(kRootInode, "kept"), 5000);
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->envelope.reply().error(), 0);
    int status = master.Signal(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(status));
  }
  MasterProcess master(data);
  std::string address = master.WaitForAddress();
  ASSERT_FALSE(address.empty());
  rpc::Connection connection({address});
  wire::Envelope lookup;
  lookup.mutable_lookup()->set_parent(kRootInode);
  lookup.mutable_lookup()->set_name("kept");
  auto reply = connection.Call(lookup, 5000);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->envelope.reply().error(), 0);
  EXPECT_EQ(reply->envelope.epoch(), 2u);
  int status = master.Signal(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(MasterProcessTest, BadConfigurationExitsNonZero) {
  TempDirectory directory;
  MasterProcess bad_goal(directory.path() + "/a", {"--goal", "0"});
  int status = bad_goal.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  MasterProcess bad_directory("/proc/hafs-cannot-be-here");
  status = bad_directory.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

}  // namespace
}  // namespace hafs::master
