/*
 * core — channels, their states and hangup causes (FreeSWITCH's names).
 */
#ifndef IRISX_CORE_H
#define IRISX_CORE_H

#include "base/base.h"

#endif
