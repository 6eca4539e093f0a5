package io.pinhole.e2e;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** Prints the story of a test, one timestamped line per step, to the test output. */
public final class Narrator {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private Narrator() {}

    public static void say(String what) {
        System.out.println("[e2e " + LocalTime.now().format(TIME) + "] " + what);
        System.out.flush();
    }
}
