/* dialplan — placeholder until the dialplan module lands. */
#ifndef IRISX_DIALPLAN_H
#define IRISX_DIALPLAN_H
#include "core/core.h"
#endif
