#include "sdp.h"
