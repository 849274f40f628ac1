/*  ms_scratch - the media-service's own directory for temporary files,
    and the clearing of what killed media-services left

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

struct _ms_scratch_t {
    char *path; //  the directory
    int lock;   //  descriptor of its lock file, locked
};

//  Remove dir and everything in it, `depth` levels down at most (the
//  tree is ours: a lock file and the workers' directories of files).
//  Symbolic links are removed, never followed.
static void
s_remove_tree(const char *dir, int depth)
{
    DIR *d = depth > 0 ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (streq(e->d_name, ".") || streq(e->d_name, "..")) {
            continue;
        }
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            s_remove_tree(path, depth - 1);
        } else if (unlink(path) != 0 && errno != ENOENT) {
            cm_log_warn("could not remove a temporary file",
                        "path=\"%s\" err=\"%s\"", path, strerror(errno));
        }
    }
    if (d) {
        closedir(d);
    }
    if (rmdir(dir) != 0 && errno != ENOENT) {
        cm_log_warn("could not remove a temporary directory",
                    "path=\"%s\" err=\"%s\"", dir, strerror(errno));
    }
}

int
ms_scratch_sweep(const char *tmpdir)
{
    DIR *top = opendir(tmpdir);
    if (!top) {
        return 0;
    }
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(top))) {
        if (strncmp(e->d_name, MS_SCRATCH_PREFIX, strlen(MS_SCRATCH_PREFIX)) !=
            0) {
            continue;
        }
        char dir[1200];
        char lock[1300];
        snprintf(dir, sizeof dir, "%s/%s", tmpdir, e->d_name);
        snprintf(lock, sizeof lock, "%s/lock", dir);
        //  O_NOFOLLOW: a lock file must be a file of ours
        int fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            continue; //  not a media-service's, or one being set up
        }
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_uid == geteuid() && flock(fd, LOCK_EX | LOCK_NB) == 0) {
            //  Nobody holds it: its media-service is gone
            s_remove_tree(dir, MS_SCRATCH_DEPTH);
            removed++;
        }
        close(fd);
    }
    closedir(top);
    return removed;
}

ms_scratch_t *
ms_scratch_new(const char *tmpdir)
{
    assert(tmpdir);
    int removed = ms_scratch_sweep(tmpdir);
    if (removed > 0) {
        cm_log_info("removed temporary files of media-services gone",
                    "dir=\"%s\" count=%d", tmpdir, removed);
    }
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/" MS_SCRATCH_PREFIX "XXXXXX", tmpdir);
    if (!mkdtemp(dir)) {
        cm_log_error("could not create a temporary directory",
                     "dir=\"%s\" err=\"%s\"", dir, strerror(errno));
        return NULL;
    }
    char setup[1300];
    char lock[1300];
    snprintf(setup, sizeof setup, "%s/.lock", dir);
    snprintf(lock, sizeof lock, "%s/lock", dir);
    int fd = open(setup, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0 || rename(setup, lock) != 0) {
        cm_log_error("could not lock a temporary directory",
                     "dir=\"%s\" err=\"%s\"", dir, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        s_remove_tree(dir, MS_SCRATCH_DEPTH);
        return NULL;
    }
    ms_scratch_t *self = cm_alloc(sizeof *self);
    self->path = cm_strdup(dir);
    self->lock = fd;
    return self;
}

void
ms_scratch_destroy(ms_scratch_t **self_p)
{
    assert(self_p);
    ms_scratch_t *self = *self_p;
    if (self) {
        s_remove_tree(self->path, MS_SCRATCH_DEPTH);
        close(self->lock);
        free(self->path);
        free(self);
        *self_p = NULL;
    }
}

const char *
ms_scratch_path(ms_scratch_t *self)
{
    return self->path;
}

//  --------------------------------------------------------------------

//  Number of entries of dir whose name starts with the prefix.
static int
s_test_count(const char *dir)
{
    DIR *d = opendir(dir);
    assert(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        n += strncmp(e->d_name, MS_SCRATCH_PREFIX, strlen(MS_SCRATCH_PREFIX)) ==
             0;
    }
    closedir(d);
    return n;
}

void
ms_scratch_test(bool verbose)
{
    printf(" * ms_scratch: ");
    char tmp[] = "/tmp/ms_scratch_test_XXXXXX";
    assert(mkdtemp(tmp));
    cm_log_init(NULL, "error");

    //  Two running media-services: each its own locked directory, and
    //  neither removes the other's
    ms_scratch_t *one = ms_scratch_new(tmp);
    ms_scratch_t *two = ms_scratch_new(tmp);
    assert(one && two);
    assert(strncmp(ms_scratch_path(one), tmp, strlen(tmp)) == 0);
    assert(!streq(ms_scratch_path(one), ms_scratch_path(two)));
    assert(s_test_count(tmp) == 2);
    char file[1400];
    snprintf(file, sizeof file, "%s/av-1", ms_scratch_path(one));
    assert(mkdir(file, 0700) == 0);
    snprintf(file, sizeof file, "%s/av-1/in", ms_scratch_path(one));
    FILE *f = fopen(file, "w");
    assert(f);
    fputs("media", f);
    fclose(f);
    assert(ms_scratch_sweep(tmp) == 0);
    assert(access(file, F_OK) == 0);

    //  One is killed: its lock goes with it (closing the descriptor is
    //  what the kernel does), and the next start removes its files
    char *gone = cm_strdup(ms_scratch_path(one));
    close(one->lock);
    free(one->path);
    free(one);
    assert(access(file, F_OK) == 0);
    ms_scratch_t *three = ms_scratch_new(tmp);
    assert(three);
    assert(access(gone, F_OK) != 0);
    assert(access(ms_scratch_path(two), F_OK) == 0);
    assert(s_test_count(tmp) == 2);

    //  What is not a media-service's (no lock file) stays
    char other[1400];
    snprintf(other, sizeof other, "%s/" MS_SCRATCH_PREFIX "other", tmp);
    assert(mkdir(other, 0700) == 0);
    assert(ms_scratch_sweep(tmp) == 0);
    assert(access(other, F_OK) == 0);
    assert(rmdir(other) == 0);

    //  A clean stop removes its own directory
    ms_scratch_destroy(&two);
    ms_scratch_destroy(&three);
    ms_scratch_destroy(&three);
    assert(s_test_count(tmp) == 0);
    assert(ms_scratch_new("/nonexistent/dir") == NULL);
    free(gone);
    assert(rmdir(tmp) == 0);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
