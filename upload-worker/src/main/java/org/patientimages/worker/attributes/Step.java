package org.patientimages.worker.attributes;

/**
 * What one step of reading a file (its attributes, its thumbnail) made, or why it was skipped: exactly one of the
 * two is set.
 */
public record Step<T>(T value, UnreadableFileException skipped) {

    /** Work of a step that may find the file unreadable. */
    @FunctionalInterface
    public interface Work<T> {
        T run() throws UnreadableFileException;
    }

    /** Work on a step's value. */
    @FunctionalInterface
    public interface Then<T, R> {
        R apply(T value) throws UnreadableFileException;
    }

    public static <T> Step<T> done(T value) {
        return new Step<>(value, null);
    }

    public static <T> Step<T> skipped(UnreadableFileException reason) {
        return new Step<>(null, reason);
    }

    /**
     * The work's value, or why not: the file's own reason, or {@code failed} for a library's unexpected exception
     * (kept as the cause, for the log; its message may quote the file and is not the reason given).
     */
    public static <T> Step<T> of(Work<T> work, String failed) {
        try {
            return done(work.run());
        } catch (UnreadableFileException e) {
            return skipped(e);
        } catch (RuntimeException e) {
            return skipped(new UnreadableFileException(failed, e));
        }
    }

    /** The next work on this step's value; skipped for the same reason when this step was. */
    public <R> Step<R> then(Then<T, R> next, String failed) {
        return skipped != null ? skipped(skipped) : of(() -> next.apply(value), failed);
    }
}
