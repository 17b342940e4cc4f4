//! The answers the gate gives itself, without s3s: an S3 error document (`<Error><Code>..`)
//! with its status and headers, as S3 writes it, or an empty body for HEAD (S3 sends no body on
//! a HEAD error; the SDK then knows the error only by its status and headers).

use hyper::http::{HeaderValue, Method, StatusCode};
use s3s::{Body, HttpResponse};

/// An S3 error the gate answers.
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// More elements of the error document, e.g. `("Endpoint", "...")`, in order.
    pub details: Vec<(&'static str, String)>,
    /// Response headers, e.g. `x-amz-bucket-region`.
    pub headers: Vec<(&'static str, String)>,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn detail(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The HTTP response; without a body for HEAD.
    pub(crate) fn into_response(self, method: &Method) -> HttpResponse {
        let body = match *method == Method::HEAD {
            true => Body::empty(),
            false => Body::from(self.document()),
        };
        let mut response = HttpResponse::new(body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if *method != Method::HEAD {
            headers.insert("content-type", HeaderValue::from_static("application/xml"));
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }

    fn document(&self) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        element(&mut xml, "Code", self.code);
        element(&mut xml, "Message", &self.message);
        for (name, value) in &self.details {
            element(&mut xml, name, value);
        }
        element(&mut xml, "RequestId", "airlock-s3server");
        xml.push_str("</Error>");
        xml
    }
}

fn element(xml: &mut String, name: &str, text: &str) {
    xml.push('<');
    xml.push_str(name);
    xml.push('>');
    for c in text.chars() {
        match c {
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '&' => xml.push_str("&amp;"),
            '"' => xml.push_str("&quot;"),
            '\'' => xml.push_str("&apos;"),
            c => xml.push(c),
        }
    }
    xml.push_str("</");
    xml.push_str(name);
    xml.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_escapes_text_and_keeps_the_order() {
        let refusal = Refusal::new(StatusCode::BAD_REQUEST, "Code1", "a < b & 'c'")
            .detail("Bucket", "b")
            .header("x-amz-bucket-region", "eu-west-1");
        assert_eq!(
            refusal.document(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>Code1</Code>\
             <Message>a &lt; b &amp; &apos;c&apos;</Message><Bucket>b</Bucket>\
             <RequestId>airlock-s3server</RequestId></Error>"
        );
        let head = refusal.into_response(&Method::HEAD);
        assert_eq!(head.status(), StatusCode::BAD_REQUEST);
        assert_eq!(head.headers()["x-amz-bucket-region"], "eu-west-1");
        assert!(head.headers().get("content-type").is_none());
    }
}
