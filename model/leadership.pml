/*
 * hafs master failover: the leadership protocol of docs/design.md ("Master failover"),
 * small enough for spin to check exhaustively. See model/README.md.
 *
 * Two masters (0, 1), three chunkservers (0..2), one logical clock. Times are kept as
 * "ticks remaining" (a lease, a master's trust, a request's age), all lowered together when
 * the clock ticks, so the state space is finite without bounding time. Every step below is
 * one atomic action of one party; spin tries every order of them, so any party may be
 * delayed (paused, SIGSTOP) for any number of ticks between two of its steps, and any
 * request may be delayed or never delivered, any answer lost. Checked:
 *   SAFE_LEASE  never two masters that may acknowledge (active, and trusting the leases of
 *               a quorum) at the same time: after every step that can make a master
 *               trusted or active, and at every acknowledgement;
 *   SAFE_LOG    a master that becomes active holds every acknowledged log record (a stale
 *               standby is never promoted): at every promotion.
 *
 * Variants (-D flags to spin, e.g. spin -a -DNO_OOS_MARK leadership.pml), each must FAIL:
 *   GRANT_MARKED   a chunkserver grants to the master it recorded out of sync (no MAY_LEAD):
 *                  SAFE_LOG fails.
 *   NO_OOS_MARK    the active goes degraded without first recording "standby out of sync"
 *                  at a quorum: SAFE_LOG fails.
 *   LEASE_OVERRUN  the master trusts a lease one tick past the chunkserver's expiry:
 *                  SAFE_LEASE should fail (not in the test suite: its larger state space
 *                  takes minutes).
 */

#define NM 2          /* masters */
#define NC 3          /* chunkservers (members) */
#define Q  2          /* quorum: NC / 2 + 1 */

#ifndef D
#define D 2           /* lease duration in ticks, counted by the chunkserver from receipt */
#endif
#ifdef LEASE_OVERRUN
#define TD (D + 1)    /* broken: trusted past the chunkserver's expiry */
#else
#define TD (D - 1)    /* trusted for D*0.8 counted from the SEND time: ends before the expiry */
#endif
#define AGE_CAP (TD + 1)  /* req_age at which a request gives its sender no trust (older: the same) */
#ifndef MAXE
#define MAXE 2        /* highest epoch a candidate may take (3 does not finish in minutes) */
#endif
#ifndef MAXLOG
#define MAXLOG 1      /* log records acknowledged in one run */
#endif

#define STANDBY   0
#define CANDIDATE 1
#define ACTIVE    2


#define OTHER(m) (1 - (m))
#define S(m, i) ((m) * NC + (i))   /* slot of the pair (master m, chunkserver i) */

byte acked;               /* highest log length acknowledged to a client */

/* chunkservers: persistent state (they do not restart in this model) */
byte holder[NC];          /* lease holder: master + 1, 0 = none */
byte expiry[NC];          /* ticks until the holder's lease ends (chunkserver clock), 0 = ended */
byte high[NC];            /* highest epoch seen */
byte oos[NC];             /* the master recorded as out of sync here: master + 1, 0 = none */

/* masters */
byte role[NM];
byte epoch[NM];
byte seen[NM];            /* highest epoch heard of from chunkservers */
byte loglen[NM];          /* log length (on disk: survives a crash) */
bool insync[NM];          /* this master's log equals the active's (a standby in sync) */
bool degraded[NM];        /* active: acknowledges without the standby */
bool want_mark[NM];       /* active: the standby stopped answering; marking it out of sync */
bool want_clear[NM];      /* active: the standby is back in sync; clearing the mark */
byte trust[NM * NC];      /* ticks master m still trusts chunkserver i's lease, 0 = none */
bool marked[NM * NC];     /* active m: chunkserver i recorded the standby out of sync for it */

/* the network: at most one request in flight per pair (a newer one replaces an older one,
   which is then lost). The answer reaches the master when the chunkserver handles the
   request, or is lost: an answer arriving later would only shorten the master's trust
   (counted from the send time), and what it says travels with the grant. The mark/clear
   flag a request carries is the sender's wish when the chunkserver handles it (the master
   does not change its wish while a round is in flight, in effect). A master that becomes a
   standby forgets its requests in flight (forget_leases), so a request always carries the
   sender's current epoch (no req_ep): an abstraction, a standby's late request could only
   block a chunkserver's lease for D or raise its highest epoch. */
byte req_age[NM * NC];    /* ticks since sent + 1 (capped), 0 = none in flight */

#define TRUSTS(m, i) (trust[S(m, i)] > 0)
#define QUORUM(m) ((TRUSTS(m, 0) + TRUSTS(m, 1) + TRUSTS(m, 2)) >= Q)
#define MAY_ACK(m) (role[m] == ACTIVE && QUORUM(m))
#define MARKS(m) ((marked[S(m, 0)] + marked[S(m, 1)] + marked[S(m, 2)]) >= Q)
#define SAFE_LEASE (!(MAY_ACK(0) && MAY_ACK(1)))
#define MAX(a, b) ((a) > (b) -> (a) : (b))

/* marked[] is only read while want_mark: reset whenever want_mark ends (merges states) */
inline clear_marked(m) {
  marked[S(m, 0)] = 0; marked[S(m, 1)] = 0; marked[S(m, 2)] = 0
}

/* a master that stops running (standby) forgets its leases and its requests in flight */
inline forget_leases(m) {
  trust[S(m, 0)] = 0; trust[S(m, 1)] = 0; trust[S(m, 2)] = 0;
  req_age[S(m, 0)] = 0; req_age[S(m, 1)] = 0; req_age[S(m, 2)] = 0;
  clear_marked(m)
}

/* a deposed or restarted active: its log may hold records nobody acknowledged and the new
   active never saw, so it is not in sync until it resynchronised */
inline step_down(m) {
  role[m] = STANDBY;
  insync[m] = false;
  degraded[m] = false;
  want_mark[m] = false;
  want_clear[m] = false;
  forget_leases(m)
}

inline tick() {
  for (i : 0 .. NC - 1) {
    if :: expiry[i] > 0 -> expiry[i]-- :: else -> skip fi;
    if :: expiry[i] == 0 -> holder[i] = 0 :: else -> skip fi   /* merge: an ended lease has no holder */
  }
  for (i : 0 .. NM * NC - 1) {
    if :: trust[i] > 0 -> trust[i]-- :: else -> skip fi;
    if :: req_age[i] > 0 && req_age[i] < AGE_CAP -> req_age[i]++ :: else -> skip fi
  }
  i = 0
}

/* a candidate or the active asks every chunkserver for its lease (the real active renews
   every D/5; here, at any time) */
inline send_round(m) {
  for (i : 0 .. NC - 1) {
    req_age[S(m, i)] = 1
  }
  i = 0
}

/* A chunkserver never grants to the master it recorded as out of sync (GRANT_MARKED: the
   broken variant that does, where a stale candidate's own request overwrites the mark). */
#ifdef GRANT_MARKED
#define MAY_LEAD(m, i) true
#else
#define MAY_LEAD(m, i) (oos[i] != m + 1)
#endif

/* chunkserver i handles master m's LeadershipLeaseRequest; if `delivered`, master m handles
   the answer at once */
inline handle(m, i, delivered) {
  granted = false;
  if
  :: epoch[m] >= high[i] && (holder[i] == 0 || expiry[i] == 0 || holder[i] == m + 1) && MAY_LEAD(m, i) ->
       holder[i] = m + 1;
       expiry[i] = D;
       high[i] = epoch[m];
       granted = true;
       if
       :: role[m] == ACTIVE && want_mark[m] -> oos[i] = OTHER(m) + 1
       :: role[m] == ACTIVE && want_clear[m] && oos[i] == OTHER(m) + 1 -> oos[i] = 0
       :: else -> skip
       fi
  :: else -> skip
  fi;
  if
  :: delivered ->
       seen[m] = MAX(seen[m], high[i]);
       if :: seen[m] <= epoch[m] -> seen[m] = 0 :: else -> skip fi;   /* merge: only max(epoch, seen) is read */
       if
       :: role[m] != STANDBY && high[i] > epoch[m] ->
            step_down(m)                  /* a newer master exists: fenced */
       :: role[m] == CANDIDATE && oos[i] == m + 1 ->
            role[m] = STANDBY;            /* out of sync: never becomes active; logs why */
            forget_leases(m)
       :: role[m] != STANDBY && granted ->
            /* trusted for TD ticks from when the request was SENT */
            if
            :: req_age[S(m, i)] - 1 < TD -> trust[S(m, i)] = MAX(trust[S(m, i)], TD - (req_age[S(m, i)] - 1))
            :: else -> skip
            fi;
            if
            :: want_mark[m] && oos[i] == OTHER(m) + 1 -> marked[S(m, i)] = true
            :: else -> skip
            fi;
            if
            :: want_mark[m] && MARKS(m) -> degraded[m] = true; want_mark[m] = false; clear_marked(m)
            :: else -> skip
            fi
       :: else -> skip
       fi
  :: else -> skip
  fi;
  req_age[S(m, i)] = 0;
  granted = false;
  assert(SAFE_LEASE)
}

active proctype world() {
  byte m, i;
  bool granted;
  /* a brand-new cluster: master 0 was started with --bootstrap and runs for active with
     epoch 1; both logs are empty, so master 1 is its in-sync standby */
  role[0] = CANDIDATE; epoch[0] = 1; epoch[1] = 1;
  insync[1] = true;
  do
  /* time passes for everyone */
  :: atomic { tick() }

  :: atomic { select(m : 0 .. NM - 1);
       if
       :: role[m] != STANDBY -> send_round(m)
       :: else -> skip
       fi;
       m = 0 }

  /* a chunkserver handles a request, and the answer arrives or is lost (a request that is
     lost is one never handled: a later round replaces it) */
  :: atomic { select(m : 0 .. NM - 1); select(i : 0 .. NC - 1);
       if
       :: req_age[S(m, i)] != 0 -> handle(m, i, true)
       :: req_age[S(m, i)] != 0 -> handle(m, i, false)
       :: else -> skip
       fi;
       m = 0; i = 0 }

  /* a standby heard nothing from the active for --takeover-after-ms (or believes so: at
     any time) and runs for active with max(own, seen) + 1 */
  :: atomic { select(m : 0 .. NM - 1);
       if
       :: role[m] == STANDBY && MAX(epoch[m], seen[m]) < MAXE ->
            epoch[m] = MAX(epoch[m], seen[m]) + 1;
            forget_leases(m);
            role[m] = CANDIDATE
       :: else -> skip
       fi;
       m = 0 }

  /* a candidate gives up (timeout) */
  :: atomic { select(m : 0 .. NM - 1);
       if
       :: role[m] == CANDIDATE -> role[m] = STANDBY; forget_leases(m)
       :: else -> skip
       fi;
       m = 0 }

  /* a candidate trusting a quorum, none of which reported it out of sync, becomes active */
  :: atomic { select(m : 0 .. NM - 1);
       if
       :: role[m] == CANDIDATE && QUORUM(m) ->
            role[m] = ACTIVE;
            assert(loglen[m] >= acked);   /* SAFE_LOG: no stale master is ever promoted */
            assert(SAFE_LEASE);
            insync[m] = true
       :: else -> skip
       fi;
       m = 0 }

  /* the active acknowledges a change while its standby is in sync: both have it on disk */
  :: atomic { select(m : 0 .. NM - 1);
       if
       :: MAY_ACK(m) && !degraded[m] && loglen[m] < MAXLOG &&
          role[OTHER(m)] == STANDBY && insync[OTHER(m)] ->
            assert(!MAY_ACK(OTHER(m)));
            loglen[m]++;
            loglen[OTHER(m)] = loglen[m];
            acked = loglen[m]
       :: else -> skip
       fi;
       m = 0 }

  /* the active acknowledges a change alone (degraded) */
  :: atomic { select(m : 0 .. NM - 1);
       if
       :: MAY_ACK(m) && degraded[m] && loglen[m] < MAXLOG ->
            assert(!MAY_ACK(OTHER(m)));
            loglen[m]++;
            insync[OTHER(m)] = false;
            acked = loglen[m]
       :: else -> skip
       fi;
       m = 0 }

  /* the standby stopped answering: the active records it out of sync at a quorum first */
  :: atomic { select(m : 0 .. NM - 1);
       if
       :: role[m] == ACTIVE && !degraded[m] && !want_mark[m] ->
            want_clear[m] = false;
#ifdef NO_OOS_MARK
            degraded[m] = true            /* broken: acknowledges alone without the mark */
#else
            want_mark[m] = true;
            clear_marked(m)
#endif
       :: else -> skip
       fi;
       m = 0 }

  /* the standby resynchronised (checkpoint + log from the active): in sync again; the
     active clears the mark with its next rounds. Only from a master that is the active
     (trusting a quorum): the standby refuses a deposed one, whose epoch is lower than
     the one in its own log. */
  :: atomic { select(m : 0 .. NM - 1);
       if
       :: MAY_ACK(m) && role[OTHER(m)] == STANDBY &&
          (degraded[m] || want_mark[m] || !insync[OTHER(m)]) ->
            loglen[OTHER(m)] = loglen[m];
            insync[OTHER(m)] = true;
            degraded[m] = false;
            want_mark[m] = false;
            clear_marked(m);
            want_clear[m] = true
       :: else -> skip
       fi;
       m = 0 }

  /* a master crashes (kill -9) and restarts as a standby; its log survives */
  :: atomic { select(m : 0 .. NM - 1);
       if
       :: role[m] != STANDBY -> step_down(m)
       :: else -> skip
       fi;
       m = 0 }
  od
}
