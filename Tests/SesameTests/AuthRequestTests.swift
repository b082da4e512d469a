import HTTPTypes
import Testing

@testable import Sesame

/// A framework's raw request parts, as an integration without `HTTPRequest`s hands them over.
@Suite struct AuthRequestTests {
    @Test func rawPartsBuildTheSameRequest() {
        let request = AuthRequest(
            method: "POST", path: "/auth/signin/github?x=1",
            fields: [(name: "Host", value: "app.example"), (name: "bad name", value: "dropped"),
                     (name: "Cookie", value: "a=1"), (name: "cookie", value: "b=2"),
                     (name: "Content-Type", value: "application/x-www-form-urlencoded")],
            body: Array("csrfToken=t".utf8), clientAddress: "192.0.2.1")
        #expect(request.head.method == .post)
        #expect(request.head.authority == "app.example")
        #expect(request.path == "/auth/signin/github" && request.query["x"] == "1")
        #expect(request.head.headerFields.count == 4, "the field with an invalid name is dropped")
        #expect(request.cookie(named: "b") == "2" && request.form["csrfToken"] == "t")
        #expect(request.clientAddress == "192.0.2.1")
    }

    @Test func anInvalidMethodOrNoHostIsNotTrusted() {
        let request = AuthRequest(method: "G ET", path: "/", fields: [(name: "X", value: "1")])
        #expect(request.head.method == .get)
        #expect(request.head.authority == nil)
    }
}
