package io.pinhole.client.privilege;

/** Constants from {@code <linux/prctl.h>}. */
final class Prctl {
    private Prctl() {
    }

    /** {@code PR_SET_KEEPCAPS}: keep the permitted capabilities across a switch away from uid 0. */
    static final int PR_SET_KEEPCAPS = 8;
    /** {@code PR_CAPBSET_DROP}: remove a capability from the bounding set (needs CAP_SETPCAP). */
    static final int PR_CAPBSET_DROP = 24;
    /** {@code PR_SET_NO_NEW_PRIVS}: no execve can ever grant more privileges (irreversible). */
    static final int PR_SET_NO_NEW_PRIVS = 38;
    /** {@code PR_CAP_AMBIENT}, with {@link #PR_CAP_AMBIENT_CLEAR_ALL}. */
    static final int PR_CAP_AMBIENT = 47;
    /** {@code PR_CAP_AMBIENT_CLEAR_ALL}. */
    static final int PR_CAP_AMBIENT_CLEAR_ALL = 4;
}
