// The libfuse API version hafs-mount is written against (3.12: fuse_loop_cfg_*).
// Include this instead of <fuse_lowlevel.h>.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
