import Testing

@testable import Common

@Suite("Markup: text in XML and HTML, and back")
struct MarkupTests {
    @Test func theFiveMarkupCharactersBecomeEntities() {
        #expect(Markup.escape(#"Apple "Pink" & <Lady>'s"#) == "Apple &quot;Pink&quot; &amp; &lt;Lady&gt;&apos;s")
        #expect(Markup.escape("Pitahaya Red é") == "Pitahaya Red é")
    }

    @Test func escapedTextReadsBackAsWritten() {
        let keys = ["Test/Apple Braeburn/0_100.jpg", #"a&b<c>"d'e"#, "&amp; already", "", "&&;;"]
        for key in keys { #expect(Markup.unescape(Markup.escape(key)[...]) == key) }
    }

    @Test func numericReferencesAreDecodedAndUnknownEntitiesKept() {
        #expect(Markup.unescape("caf&#233; caf&#xE9;") == "café café")
        #expect(Markup.unescape("&nbsp;&#xZZ; & no end &amp") == "&nbsp;&#xZZ; & no end &amp")
    }

    /// A quote, `<`, `&` or `'` followed by a combining mark is one Swift
    /// Character, yet a browser still sees the quote: every one is escaped.
    @Test(arguments: ["\u{301}", "\u{20DD}", "\u{FE0F}", "\u{200D}"])
    func markupCharactersFollowedByCombiningMarksAreEscapedToo(mark: String) {
        let label = "x\"\(mark) onmouseover=alert(1) <\(mark)script>&\(mark)'\(mark)"
        let escaped = Markup.escape(label)
        #expect(!escaped.unicodeScalars.contains { "\"<>&'".unicodeScalars.contains($0) && $0 != "&" })
        #expect(escaped.unicodeScalars.filter { $0 == "&" }.count == 5)  // one per entity, none left raw
        #expect(escaped == "x&quot;\(mark) onmouseover=alert(1) &lt;\(mark)script&gt;&amp;\(mark)&apos;\(mark)")
        #expect(Markup.unescape(escaped[...]) == label)
    }
}
