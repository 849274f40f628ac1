/*  ms_scratch - the media-service's own directory for temporary files,
    and the clearing of what killed media-services left

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A media-service keeps its temporary files (each worker's ffmpeg
    input, output and stderr, ms_av) in one directory of its own,
    "<TMPDIR>/wharf-media-<random>", which holds a file "lock" that the
    process keeps locked (flock) while it runs. The kernel drops the lock
    when the process ends, however it ends, so a lock that can be taken
    marks the directory of a media-service that is gone without clearing
    up (SIGKILL, a crash, the OOM killer): at start, a media-service
    removes those. A directory whose lock is held (a running
    media-service, on this host or any sharing TMPDIR) and anything
    without a lock file are left alone. The lock file is made under
    another name and renamed once locked, so a directory is never seen
    with a lock that nobody holds while it is being set up.
*/
#ifndef MS_SCRATCH_H_INCLUDED
#define MS_SCRATCH_H_INCLUDED

#include <stdbool.h>

//  Name of a media-service's directory in TMPDIR, before its random part.
#define MS_SCRATCH_PREFIX "wharf-media-"
//  Levels of directories removed under one (its workers' directories and
//  whatever ffmpeg makes in them).
#define MS_SCRATCH_DEPTH 4

typedef struct _ms_scratch_t ms_scratch_t;

//  Remove the directories of media-services gone from `tmpdir` (logged),
//  then make this process's own and lock it. NULL (logged) when it
//  cannot be made. Caller owns return value.
ms_scratch_t *ms_scratch_new(const char *tmpdir);

//  Remove the directory with everything in it, and unlock.
void ms_scratch_destroy(ms_scratch_t **self_p);

//  The directory: put temporary files under it.
const char *ms_scratch_path(ms_scratch_t *self);

//  Remove the directories of media-services gone from `tmpdir`. Returns
//  how many were removed.
int ms_scratch_sweep(const char *tmpdir);

void ms_scratch_test(bool verbose);

#endif
