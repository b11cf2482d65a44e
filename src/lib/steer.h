/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The live state and what reads, checks and changes it, in one include: for the files that
 * still include this (apply.h, status.h, ns.h, src/cli). New code includes live.h, view.h,
 * guard.h or moves.h, whichever it uses; this header goes once nothing includes it.
 */
#ifndef __SKSTEER_STEER_H
#define __SKSTEER_STEER_H

#include "live.h"
#include "view.h"
#include "guard.h"
#include "moves.h"

#endif /* __SKSTEER_STEER_H */
