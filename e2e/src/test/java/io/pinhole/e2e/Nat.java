package io.pinhole.e2e;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** NAT modes of the lab a test class gets (see lab/lab.sh): {@code home} or {@code open}. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Nat {
    String a() default "home";
    String b() default "home";
}
