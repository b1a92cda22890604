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
}
