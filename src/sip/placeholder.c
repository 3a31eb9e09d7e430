#include "sip.h"
