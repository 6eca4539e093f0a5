package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InterfaceNameTest {

    @ParameterizedTest
    @ValueSource(strings = {"tun0", "t", "tun%d", "pinhole-tun_1.x", "abcdefghijklmno", "tün0"})
    void acceptsValidNames(String name) {
        assertArrayEquals(name.getBytes(StandardCharsets.UTF_8), InterfaceName.encode(name));
        assertTrue(InterfaceName.isValid(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "abcdefghijklmnop", "tun/0", "tun:0", "tun 0", "tun\n0", "tünnel-abcdefgh"})
    void isValidSaysNoWhereEncodeRefuses(String name) {
        assertFalse(InterfaceName.isValid(name));
        assertThrows(IllegalArgumentException.class, () -> InterfaceName.encode(name));
    }

    private static String rejectionMessage(String name) {
        return assertThrows(IllegalArgumentException.class, () -> InterfaceName.encode(name)).getMessage();
    }

    @Test
    void rejectsNull() {
        assertEquals("invalid TUN device name: name is null", rejectionMessage(null));
    }

    @Test
    void rejectsEmpty() {
        assertEquals("invalid TUN device name \"\": it is empty; a Linux interface name has 1 to 15 bytes",
                rejectionMessage(""));
    }

    @Test
    void rejectsMoreThan15Bytes() {
        assertEquals("invalid TUN device name \"abcdefghijklmnop\": it is 16 bytes long;"
                + " Linux allows at most 15 bytes (IFNAMSIZ - 1)", rejectionMessage("abcdefghijklmnop"));
    }

    @Test
    void countsBytesNotCharacters() {
        String eightUmlauts = "ääääääää"; // 8 chars, 16 UTF-8 bytes
        assertTrue(rejectionMessage(eightUmlauts).contains("16 bytes long"));
    }

    @Test
    void rejectsSlash() {
        assertEquals("invalid TUN device name \"a/b\": it contains '/'", rejectionMessage("a/b"));
    }

    @Test
    void rejectsColon() {
        assertTrue(rejectionMessage("tun0:1").contains("it contains ':'"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a b", " tun0", "tun0 ", "a\tb", "a\nb", "a\u00a0b"})
    void rejectsWhitespace(String name) {
        assertTrue(rejectionMessage(name).contains("it contains whitespace at index"), rejectionMessage(name));
    }

    @Test
    void rejectsControlCharactersAndShowsThemEscaped() {
        String msg = rejectionMessage("a\u0000b");
        assertEquals("invalid TUN device name \"a\\u0000b\": it contains a control character at index 1", msg);
    }

    @ParameterizedTest
    @ValueSource(strings = {".", ".."})
    void rejectsDotNames(String name) {
        assertTrue(rejectionMessage(name).contains("\".\" and \"..\" are not allowed"));
    }

    @Test
    void rejectsUnpairedSurrogate() {
        assertTrue(rejectionMessage("a\ud800").contains("not valid Unicode"));
    }

    @Test
    void openValidatesBeforeTouchingTheSystem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TunDevice.open("no/slashes"));
        assertTrue(e.getMessage().startsWith("invalid TUN device name \"no/slashes\""));
    }
}
