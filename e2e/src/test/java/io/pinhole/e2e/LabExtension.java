package io.pinhole.e2e;

import java.util.List;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * Gives each test a fresh {@link Pinhole} (a new lab with both NATs in {@code home} mode, unless
 * the test class is annotated with {@link Nat}), checks the prerequisites first, prints the tail
 * of every process log when a test fails (while its processes still run), and closes the lab
 * after the test whatever happened.
 */
public final class LabExtension implements BeforeAllCallback, BeforeEachCallback, ParameterResolver,
        TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LabExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        Prerequisites.check();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Prerequisites.check();
        Narrator.say("==== " + context.getRequiredTestClass().getSimpleName() + ": " + context.getDisplayName());
    }

    @Override
    public boolean supportsParameter(ParameterContext pc, ExtensionContext ec) {
        return pc.getParameter().getType() == Pinhole.class;
    }

    @Override
    public Object resolveParameter(ParameterContext pc, ExtensionContext ec) throws ParameterResolutionException {
        Nat nat = ec.getRequiredTestClass().getAnnotation(Nat.class);
        String natA = nat == null ? "home" : nat.a();
        String natB = nat == null ? "home" : nat.b();
        // The store closes the resource when the test's context ends: after @AfterEach, on success or failure.
        Closer closer = ec.getStore(NS).getOrComputeIfAbsent("lab", k -> new Closer(Lab.up(natA, natB)), Closer.class);
        return new Pinhole(closer.lab);
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        dump(context, throwable);
        throw throwable;
    }

    @Override
    public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        dump(context, throwable);
        throw throwable;
    }

    @Override
    public void handleAfterEachMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        dump(context, throwable);
        throw throwable;
    }

    private static void dump(ExtensionContext context, Throwable throwable) {
        List<Lab> labs = Lab.openLabs();
        StringBuilder sb = new StringBuilder();
        sb.append("======== ").append(context.getDisplayName()).append(" FAILED: ").append(throwable).append('\n');
        for (Lab lab : labs) {
            try {
                lab.describe(sb, 40);
            } catch (RuntimeException e) {
                sb.append("(could not describe lab ").append(lab.prefix()).append(": ").append(e).append(")\n");
            }
        }
        sb.append("======== end of lab logs\n");
        System.out.print(sb);
        System.out.flush();
    }

    /** Closes the lab when JUnit closes the test's store. */
    static final class Closer implements ExtensionContext.Store.CloseableResource {
        final Lab lab;

        Closer(Lab lab) {
            this.lab = lab;
        }

        @Override
        public void close() {
            lab.close();
        }
    }
}
