/* sdp — placeholder until the SDP module lands. */
#ifndef IRISX_SDP_H
#define IRISX_SDP_H
#include "base/base.h"
#endif
