#include "dialplan.h"
